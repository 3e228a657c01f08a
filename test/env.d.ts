declare module "cloudflare:test" {
  // Bindings the tests see through `env` (set in vitest.config.ts).
  interface ProvidedEnv extends Env {}
}
declare global {
  namespace Cloudflare {
    interface Env {
      ENVIRONMENT: string;
      SIGNUP: string;
      UPSTASH_REDIS_REST_URL: string;
      UPSTASH_REDIS_REST_TOKEN: string;
      STORE_CONTROL_URL: string;
      STORE_BACKEND: string;
      SESSION_KEYS: string;
      PASSWORD_PEPPER: string;
      CORS_ORIGINS: string;
      STORE_PREFIX: string;
    }
  }
}
export {};
