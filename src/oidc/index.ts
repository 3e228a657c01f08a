/**
 * Sign-in with OpenID Connect providers (Okta, Entra ID, Google, Keycloak, any certified
 * provider), ending in an edge-session session: see docs/SSO.md.
 *
 *   app.route("/sso", oidcSignIn({
 *     providers: [{ id: "okta", issuer, clientId, clientAuth: { method: "client_secret_basic", clientSecret } }],
 *     sessions: layer, store: layer.store, baseUrl: "https://auth.example/sso",
 *   }));
 *
 * The pieces are exported too, for apps with routes of their own.
 */
export { oidcSignIn, type SsoGrant, type SsoCookieGrant, type OidcSessionData } from "./routes.js";
export type { OidcSignInOptions, OidcProviderOptions, AuthorizeParams, OidcLogEntry } from "./options.js";
export { OidcError, OIDC_ERROR_STATUS, type OidcErrorKind } from "./errors.js";
export { discover, checkIssuer, checkProviderUrl, tenantOf, clearDiscoveryCache, type ProviderMetadata, type TenantOptions, type DiscoveryOptions } from "./discovery.js";
export { verifyJws, parseJws, clearJwksCache, SUPPORTED_ALGORITHMS, type JwsAlgorithm, type Jwk, type JwksOptions, type ParsedJws } from "./jwks.js";
export { verifyIdToken, checkIdTokenClaims, type IdTokenClaims, type IdTokenExpectations } from "./id-token.js";
export { clientAuthentication, basicAuthorization, formEncode, signJws, type ClientAuthOptions, type TokenRequestAuth } from "./client-auth.js";
export { defaultOidcUser, userIdFor, withUserInfo, type EmailPolicy, type RoleMapping, type OidcUser } from "./claims.js";
export { verifyLogoutToken, applyLogoutToken, indexSession, endSessionUrl, BACKCHANNEL_LOGOUT_EVENT, type LogoutTokenClaims, type LogoutTokenExpectations, type LogoutIndex } from "./logout.js";
export { exchangeCode, type TokenResponse } from "./token-request.js";
