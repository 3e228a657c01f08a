/**
 * The operators' settings: the audit trail's retention and the metrics rollup's interval, read
 * from `env` beside the rest of the configuration (config.ts) and checked the same way.
 */
import { parseDuration } from "../util/duration.js";

export interface OpsConfig {
  /** AUDIT_RETENTION: how long audit events are kept, ms; null when `off`. @default 90 days */
  auditRetentionMs: number | null;
  /** METRICS_ROLLUP_INTERVAL: least time between two rollups of one isolate, ms. @default 60000 */
  rollupIntervalMs: number;
  /** METRICS: `off` records nothing and rolls nothing up (a baseline for the benchmark). @default true */
  metrics: boolean;
}

export const OPS_DEFAULTS = { auditRetention: "90 d", rollupInterval: "1 m" } as const;

export interface OpsEnv {
  AUDIT_RETENTION?: string;
  METRICS?: string;
  METRICS_ROLLUP_INTERVAL?: string;
}

export function loadOpsConfig(env: OpsEnv, problems: string[]): OpsConfig {
  const rawRetention = (env.AUDIT_RETENTION ?? OPS_DEFAULTS.auditRetention).trim();
  let auditRetentionMs: number | null = null;
  if (rawRetention !== "off") {
    auditRetentionMs = parseDuration(rawRetention);
    if (auditRetentionMs === null || auditRetentionMs < 60_000) {
      problems.push(`AUDIT_RETENTION must be a duration of at least 1 m, like "90 d", or off (got "${rawRetention}")`);
      auditRetentionMs = parseDuration(OPS_DEFAULTS.auditRetention);
    }
  }
  const rawInterval = (env.METRICS_ROLLUP_INTERVAL ?? OPS_DEFAULTS.rollupInterval).trim();
  let rollupIntervalMs = parseDuration(rawInterval);
  if (rollupIntervalMs === null || rollupIntervalMs < 1000 || rollupIntervalMs > 3_600_000) {
    problems.push(`METRICS_ROLLUP_INTERVAL must be a duration from 1 s to 1 h (got "${rawInterval}")`);
    rollupIntervalMs = parseDuration(OPS_DEFAULTS.rollupInterval)!;
  }
  const metricsSwitch = env.METRICS ?? "on";
  if (metricsSwitch !== "on" && metricsSwitch !== "off") problems.push(`METRICS must be on or off (got "${metricsSwitch}")`);
  return { auditRetentionMs, rollupIntervalMs, metrics: metricsSwitch !== "off" };
}
