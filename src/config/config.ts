import { readFileSync } from "node:fs";
import { adminTokenProblem } from "../http/admin-token.js";
import type { Policy } from "../inventory/states.js";
import { FlagError, type Flags } from "./flags.js";

export interface Config {
  listenAddress: string;
  telemetryPath: string;
  webConfigFile: string;
  containerdAddress: string;
  containerdTimeoutMs: number;
  namespaces: string[];
  /** How the namespaces were given (flag or environment variable), for messages about them. */
  namespacesSource: string;
  policy: Policy;
  leaseDetailLimit: number;
  scrapeTimeoutMs: number;
  scrapeTimeoutOffsetMs: number;
  /** undefined: admin routes are off. */
  adminToken: string | undefined;
  /** Where adminToken was read from ("" for ADMIN_TOKEN or none), to re-read it. */
  adminTokenFile: string;
  adminListenAddress: string;
  pruneConfirmWindowMs: number;
  /** 0: no scheduled prune. */
  pruneIntervalMs: number;
  /** A scheduled prune runs only when at least this much is reclaimable. */
  pruneMinReclaimableBytes: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["logfmt", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** A flag whose value must be one of a few words. */
function oneOf<T extends string>(flags: Flags, name: string, allowed: readonly T[]): T {
  const value = flags.string(name);
  if (!(allowed as readonly string[]).includes(value)) {
    throw new FlagError(`${flags.source(name)}: ${JSON.stringify(value)} is not one of ${allowed.join(", ")}`);
  }
  return value as T;
}

/** The token comes from a file or ADMIN_TOKEN, never from argv where `ps` would show it. */
export function readAdminToken(tokenFile: string, env: NodeJS.ProcessEnv, source = "--admin.token-file"): string | undefined {
  let token: string | undefined;
  if (tokenFile !== "") {
    try {
      token = readFileSync(tokenFile, "utf8").trim();
    } catch (error) {
      throw new FlagError(`${source}: cannot read ${tokenFile}: ${(error as Error).message}`);
    }
    if (token === "") throw new FlagError(`${source}: ${tokenFile} is empty`);
  } else if (env.ADMIN_TOKEN) {
    token = env.ADMIN_TOKEN.trim();
  }
  const problem = token ? adminTokenProblem(token) : undefined;
  if (problem) throw new FlagError(`${tokenFile !== "" ? `${source} ${tokenFile}` : "ADMIN_TOKEN"}: ${problem}`);
  return token || undefined;
}

export function loadConfig(flags: Flags, env: NodeJS.ProcessEnv): Config {
  const logLevel = oneOf(flags, "log.level", LOG_LEVELS);
  const logFormat = oneOf(flags, "log.format", LOG_FORMATS);
  const telemetryPath = flags.string("web.telemetry-path");
  if (!telemetryPath.startsWith("/")) throw new FlagError(`${flags.source("web.telemetry-path")} must start with /`);
  return {
    listenAddress: flags.string("web.listen-address"),
    telemetryPath,
    webConfigFile: flags.string("web.config.file"),
    containerdAddress: flags.string("containerd.address"),
    containerdTimeoutMs: flags.durationMs("containerd.timeout"),
    namespaces: flags.list("containerd.namespaces"),
    namespacesSource: flags.source("containerd.namespaces"),
    policy: {
      leaseStaleAfterMs: flags.durationMs(flags.has("lease-stale-after") ? "lease-stale-after" : "lease.stale-after"),
      ingestIdleAfterMs: flags.durationMs("ingest.idle-after"),
    },
    leaseDetailLimit: flags.int("metrics.lease-detail-limit"),
    scrapeTimeoutMs: flags.durationMs("scrape.timeout"),
    scrapeTimeoutOffsetMs: flags.durationMs("scrape.timeout-offset"),
    adminToken: readAdminToken(flags.string("admin.token-file"), env, flags.source("admin.token-file")),
    adminTokenFile: flags.string("admin.token-file"),
    adminListenAddress: flags.string("admin.listen-address"),
    pruneConfirmWindowMs: flags.durationMs("prune.confirm-window"),
    pruneIntervalMs: flags.durationMs("prune.interval"),
    pruneMinReclaimableBytes: flags.bytes("prune.min-reclaimable"),
    logLevel,
    logFormat,
  };
}

/** ":9977" → all interfaces; "127.0.0.1:9978", "[::1]:9977". */
export function splitListenAddress(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!match) throw new FlagError(`listen address ${JSON.stringify(address)} is not host:port`);
  const port = Number(match[3]);
  if (port > 65535) throw new FlagError(`listen address ${JSON.stringify(address)}: port out of range`);
  return { host: match[1] ?? (match[2] || "::"), port };
}
