import { parseByteSize } from "./bytes.js";
import { parseDuration } from "./duration.js";
import { nearest } from "./suggest.js";

/**
 * Command-line flags in exporter-toolkit style (`--web.listen-address=:9977`).
 * Each has an environment twin: CONTAINERD_ORPHAN_EXPORTER_ + the name upper-
 * cased with dots and dashes as underscores. A flag given on the command line
 * wins over its environment variable, which wins over the default.
 */
export interface FlagSpec {
  name: string;
  help: string;
  default?: string;
  kind?: "string" | "duration" | "int" | "boolean" | "list" | "bytes";
  /** Commands the flag applies to; all when absent. */
  commands?: readonly Command[];
  /** May be given several times (values accumulate). */
  repeat?: boolean;
  /** A one-shot command's option: no environment twin. */
  local?: boolean;
}

export const COMMANDS = ["serve", "inventory", "df", "prune"] as const;
export type Command = (typeof COMMANDS)[number];

export const ENV_PREFIX = "CONTAINERD_ORPHAN_EXPORTER_";

export const FLAGS: readonly FlagSpec[] = [
  { name: "web.listen-address", default: ":9977", commands: ["serve"], help: "Address to serve /metrics, / and /healthz on." },
  { name: "web.telemetry-path", default: "/metrics", commands: ["serve"], help: "Path under which to expose metrics." },
  { name: "web.config.file", default: "", commands: ["serve"], help: "exporter-toolkit web configuration (TLS, basic auth)." },
  { name: "containerd.address", default: "/run/containerd/containerd.sock", help: "containerd's gRPC socket (Docker: /run/docker/containerd/containerd.sock, k3s: /run/k3s/containerd/containerd.sock)." },
  { name: "containerd.namespaces", default: "", kind: "list", help: "Comma-separated namespaces to read; all when empty." },
  { name: "containerd.timeout", default: "10s", kind: "duration", help: "Budget of one containerd call." },
  { name: "lease.stale-after", default: "1h", kind: "duration", help: "An expiring lease this old whose downloads are idle is stale." },
  { name: "ingest.idle-after", default: "10m", kind: "duration", help: "A download not written for this long is idle." },
  { name: "metrics.lease-detail-limit", default: "10", kind: "int", commands: ["serve"], help: "Stuck leases per namespace reported in containerd_lease_held_bytes; 0 disables." },
  { name: "scrape.timeout", default: "10s", kind: "duration", commands: ["serve"], help: "Scrape budget when Prometheus sends no X-Prometheus-Scrape-Timeout-Seconds header." },
  { name: "scrape.timeout-offset", default: "500ms", kind: "duration", commands: ["serve"], help: "Taken off Prometheus' scrape timeout so the answer arrives in time." },
  { name: "admin.token-file", default: "", commands: ["serve", "prune"], help: "File holding the bearer token of the admin routes (or set ADMIN_TOKEN); admin routes are off without one." },
  { name: "admin.listen-address", default: "", commands: ["serve"], help: "Serve admin routes on this separate address (e.g. 127.0.0.1:9978); on the main one when empty." },
  { name: "prune.confirm-window", default: "2s", kind: "duration", commands: ["serve", "prune"], help: "How long the prune watches candidates for movement before deleting anything." },
  { name: "prune.interval", default: "0s", kind: "duration", commands: ["serve"], help: "Run the guarded prune on this schedule (and once at start-up); 0s turns it off." },
  { name: "prune.min-reclaimable", default: "1GiB", kind: "bytes", commands: ["serve"], help: "A scheduled prune runs only when containerd_reclaimable_bytes is at least this (e.g. 512MiB, 10GiB, 0)." },
  { name: "log.level", default: "info", help: "One of debug, info, warn, error." },
  { name: "log.format", default: "logfmt", help: "One of logfmt, json." },
  { name: "json", local: true, kind: "boolean", commands: ["inventory", "df", "prune"], help: "Print JSON instead of a table." },
  { name: "dry-run", local: true, kind: "boolean", commands: ["prune"], help: "Report what would be pruned; delete nothing." },
  { name: "namespace", local: true, kind: "string", repeat: true, commands: ["prune"], help: "Prune only this namespace (repeatable)." },
  { name: "lease", local: true, kind: "string", repeat: true, commands: ["prune"], help: "Also delete this lease id even if not stale (repeatable; never a container's)." },
  { name: "lease-stale-after", local: true, kind: "duration", commands: ["prune"], help: "Override --lease.stale-after for this run." },
  { name: "admin.url", local: true, kind: "string", commands: ["prune"], help: "Ask the running exporter's admin listener (e.g. http://127.0.0.1:9978) to prune, so that its metrics count the run; the token comes from --admin.token-file or ADMIN_TOKEN." },
];

export class FlagError extends Error {}

export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replace(/[.-]/g, "_");
}

export interface ParsedArgs {
  command: Command;
  help: boolean;
  version: boolean;
  values: Map<string, string[]>;
  /** Where each value came from: the environment variable's name when it was not the command line. */
  fromEnv: Map<string, string>;
}

function unknownFlag(name: string): FlagError {
  const guess = nearest(name, FLAGS.map((f) => f.name));
  return new FlagError(`unknown flag --${name}${guess ? `; did you mean --${guess}?` : ""} (see --help)`);
}

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedArgs {
  const values = new Map<string, string[]>();
  let command: Command = "serve";
  let help = false;
  let version = false;
  let commandSeen = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--help" || arg === "-h" || arg === "help") help = true;
    else if (arg === "--version") version = true;
    else if (!arg.startsWith("--")) {
      if (commandSeen || !(COMMANDS as readonly string[]).includes(arg)) {
        const guess = commandSeen ? undefined : nearest(arg, COMMANDS);
        throw new FlagError(
          `unknown command or argument ${JSON.stringify(arg)}${guess ? `; did you mean ${guess}?` : ""} (commands: ${COMMANDS.join(", ")})`,
        );
      }
      command = arg as Command;
      commandSeen = true;
    } else {
      const eq = arg.indexOf("=");
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const spec = FLAGS.find((f) => f.name === name);
      if (!spec) throw unknownFlag(name);
      let value: string;
      if (spec.kind === "boolean") value = eq === -1 ? "true" : arg.slice(eq + 1);
      else if (eq !== -1) value = arg.slice(eq + 1);
      else {
        const next = argv[++i];
        if (next === undefined) throw new FlagError(`flag --${name} needs a value`);
        value = next;
      }
      values.set(name, spec.repeat ? [...(values.get(name) ?? []), value] : [value]);
    }
  }
  for (const name of values.keys()) {
    const spec = FLAGS.find((f) => f.name === name) as FlagSpec;
    if (spec.commands && !spec.commands.includes(command)) {
      throw new FlagError(`flag --${name} does not apply to the ${command} command`);
    }
  }
  const fromEnv = new Map<string, string>();
  for (const spec of FLAGS) {
    if (values.has(spec.name) || spec.local) continue;
    const value = env[envName(spec.name)];
    if (value !== undefined && value !== "") {
      values.set(spec.name, [value]);
      fromEnv.set(spec.name, envName(spec.name));
    }
  }
  return { command, help, version, values, fromEnv };
}

/** Typed access to parsed flags with defaults, validating as it reads. */
export class Flags {
  constructor(private readonly parsed: ParsedArgs) {}

  string(name: string): string {
    return this.parsed.values.get(name)?.at(-1) ?? spec(name).default ?? "";
  }

  strings(name: string): string[] {
    return this.parsed.values.get(name) ?? [];
  }

  list(name: string): string[] {
    return this.string(name)
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  }

  boolean(name: string): boolean {
    return ["true", "1", "yes"].includes(this.string(name));
  }

  durationMs(name: string): number {
    try {
      return parseDuration(this.string(name));
    } catch (error) {
      throw new FlagError(`${this.source(name)}: ${(error as Error).message}`);
    }
  }

  bytes(name: string): number {
    try {
      return parseByteSize(this.string(name));
    } catch (error) {
      throw new FlagError(`${this.source(name)}: ${(error as Error).message}`);
    }
  }

  /**
   * How the user gave the value: `--flag`, or the environment variable it came
   * from, so that an error points at the line of the unit file or manifest to fix.
   */
  source(name: string): string {
    const variable = this.parsed.fromEnv.get(name);
    return variable === undefined ? `--${name}` : `${variable} (the environment twin of --${name})`;
  }

  has(name: string): boolean {
    return this.parsed.values.has(name);
  }

  /** Given on the command line itself, not taken from its environment twin. */
  given(name: string): boolean {
    return this.has(name) && !this.parsed.fromEnv.has(name);
  }

  int(name: string): number {
    const text = this.string(name);
    if (!/^\d+$/.test(text)) throw new FlagError(`${this.source(name)}: ${JSON.stringify(text)} is not a whole number`);
    return Number(text);
  }
}

function spec(name: string): FlagSpec {
  const found = FLAGS.find((f) => f.name === name);
  if (!found) throw new Error(`no flag ${name}`);
  return found;
}

export function helpText(version: string): string {
  const lines = [
    `containerd-orphan-exporter ${version}`,
    "Finds the disk space containerd holds for nobody, exports it to Prometheus and prunes it on request.",
    "",
    `Usage: containerd-orphan-exporter [${COMMANDS.join("|")}] [flags]`,
    "  serve      serve /metrics, /api/v1/inventory and the admin routes (default)",
    "  inventory  print everything read from containerd (--json)",
    "  df         a docker-system-df-like table of what is held and what is reclaimable",
    "  prune      give stale leases' and partial downloads' space back",
    "",
    "Flags (environment twin in brackets):",
  ];
  for (const f of FLAGS) {
    const def = f.default ? ` (default ${JSON.stringify(f.default)})` : "";
    const only = f.commands ? ` [${f.commands.join(", ")}]` : "";
    const env = f.local ? "" : ` [${envName(f.name)}${f.name === "admin.token-file" ? "; or the token itself in ADMIN_TOKEN" : ""}]`;
    lines.push(`  --${f.name}${def}${only}${env}`, `      ${f.help}`);
  }
  return lines.join("\n");
}
