// A real Prometheus and a real Alertmanager (Debian's `prometheus` 2.42 and
// `prometheus-alertmanager` 0.25) for end-to-end tests: each in a fresh temporary directory,
// listening on a free loopback port, stopped by pid (also at process exit, like the lab's daemons).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { onExit } from "../lab/cleanup.js";
import { tail } from "../lab/logs.js";
import { freePort } from "../lab/ports.js";
import { isAlive, spawnLogged, terminate, terminateSync, type Background } from "../lab/processes.js";
import { GiveUp, waitFor } from "../lab/wait.js";

const run = promisify(execFile);

export const PROMETHEUS_BIN = "prometheus";
export const PROMTOOL_BIN = "promtool";
export const ALERTMANAGER_BIN = "prometheus-alertmanager";

// ---------------------------------------------------------------------------------
// Daemons

export interface Daemon {
  /** "127.0.0.1:PORT" */
  readonly address: string;
  /** "http://127.0.0.1:PORT" */
  readonly url: string;
  readonly pid: number;
  readonly dir: string;
  readonly logFile: string;
  /** The last lines of the daemon's log. */
  logTail(lines?: number): string;
  /** SIGTERM (SIGKILL after a grace period), then removes the directory. Idempotent. */
  stop(): Promise<void>;
}

interface DaemonSpec {
  name: string;
  bin: string;
  /** Writes the config files into `dir` for a daemon that listens on `address`; returns argv. */
  prepare(dir: string, address: string): string[];
  startTimeoutMs: number;
}

/** Starts a daemon on a free port (retrying when someone took the port first) and waits for /-/ready. */
async function startDaemon(spec: DaemonSpec): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), `e2e-${spec.name}-`));
  const logFile = join(dir, `${spec.name}.log`);
  // Registered before the first spawn: a test run killed mid-start leaves nothing behind.
  let pid: number | undefined;
  const unregister = onExit(() => {
    if (pid !== undefined) terminateSync(pid);
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    for (let attempt = 1; ; attempt++) {
      const address = `127.0.0.1:${await freePort()}`;
      const args = spec.prepare(dir, address);
      const daemon = spawnLogged(spec.bin, args, logFile);
      pid = daemon.pid;
      try {
        await waitReady(spec, daemon, address, logFile);
        return supervise(spec, daemon, address, dir, logFile, unregister);
      } catch (error) {
        await terminate(daemon.pid, 2_000);
        pid = undefined;
        if (attempt >= 3 || !tail(logFile, 10).includes("address already in use")) throw error;
      }
    }
  } catch (error) {
    unregister();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function waitReady(spec: DaemonSpec, daemon: Background, address: string, logFile: string): Promise<void> {
  await waitFor(
    `${spec.name} to answer http://${address}/-/ready`,
    async () => {
      if (!isAlive(daemon.pid)) throw new GiveUp(`${spec.name} exited`);
      const response = await fetch(`http://${address}/-/ready`, { signal: AbortSignal.timeout(2_000) });
      return response.status === 200;
    },
    {
      timeoutMs: spec.startTimeoutMs,
      intervalMs: 100,
      describe: () => `${spec.name} log (tail):\n${tail(logFile, 30)}`,
    },
  );
}

function supervise(
  spec: DaemonSpec,
  daemon: Background,
  address: string,
  dir: string,
  logFile: string,
  unregister: () => void,
): Daemon {
  let stopping: Promise<void> | undefined;
  return {
    address,
    url: `http://${address}`,
    pid: daemon.pid,
    dir,
    logFile,
    logTail: (lines = 30) => tail(logFile, lines),
    stop() {
      stopping ??= (async () => {
        try {
          await terminate(daemon.pid);
        } finally {
          unregister();
          rmSync(dir, { recursive: true, force: true });
        }
      })();
      return stopping;
    },
  };
}

/** A config value as a YAML scalar: JSON strings are valid YAML and take care of quoting. */
const q = (value: string) => JSON.stringify(value);

// ---------------------------------------------------------------------------------
// Alertmanager

export interface AlertmanagerOptions {
  /** Where every notification goes (a webhook receiver's URL). */
  webhookUrl: string;
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  startTimeoutMs?: number;
}

export type Alertmanager = Daemon;

/**
 * One route, grouping by every label (`...`: one notification group per alert, so each
 * firing and each resolution is its own notification), to one webhook with send_resolved.
 * Clustering is off (empty --cluster.listen-address).
 */
export function startAlertmanager(options: AlertmanagerOptions): Promise<Alertmanager> {
  return startDaemon({
    name: "alertmanager",
    bin: ALERTMANAGER_BIN,
    startTimeoutMs: options.startTimeoutMs ?? 20_000,
    prepare(dir, address) {
      const configFile = join(dir, "alertmanager.yml");
      writeFileSync(
        configFile,
        `# generated by test/support/prometheus.ts
route:
  receiver: webhook
  group_by: ["..."]
  group_wait: ${options.groupWait ?? "1s"}
  group_interval: ${options.groupInterval ?? "1s"}
  repeat_interval: ${options.repeatInterval ?? "1h"}
receivers:
  - name: webhook
    webhook_configs:
      - url: ${q(options.webhookUrl)}
        send_resolved: true
        max_alerts: 0
`,
      );
      return [
        `--config.file=${configFile}`,
        `--storage.path=${join(dir, "data")}`,
        `--web.listen-address=${address}`,
        // Links in notifications (externalURL) point at loopback, not at the machine's hostname.
        `--web.external-url=http://${address}/`,
        "--cluster.listen-address=",
        "--log.level=info",
      ];
    },
  });
}

// ---------------------------------------------------------------------------------
// Prometheus

export interface ScrapeTarget {
  job: string;
  /** "host:port" */
  targets: string[];
  metricsPath?: string;
}

export interface PrometheusOptions {
  scrape: ScrapeTarget[];
  /** Rule files (absolute paths) to load. */
  ruleFiles?: string[];
  /** Alertmanager address ("127.0.0.1:PORT") to send alerts to. */
  alertmanager?: string;
  scrapeInterval?: string;
  /** At most scrapeInterval; Prometheus sends it in X-Prometheus-Scrape-Timeout-Seconds. */
  scrapeTimeout?: string;
  evaluationInterval?: string;
  /**
   * How often a firing (or recently resolved) alert is sent to Alertmanager again
   * (--rules.alert.resend-delay, 1m by default in Prometheus). Default here "1s": Prometheus
   * drops alerts sent while its notifier has no Alertmanager (for a few seconds after start
   * and after every config reload, until discovery refills the set), and would otherwise
   * retry only a minute later.
   */
  alertResendDelay?: string;
  startTimeoutMs?: number;
}

export interface Prometheus extends Daemon {
  /** GET /api/v1/<path> and the `data` of a successful answer; throws with Prometheus' error otherwise. */
  api<T = unknown>(path: string, params?: Record<string, string | string[]>): Promise<T>;
  /** An instant query now (or at `time`, epoch seconds): the vector/scalar/matrix result. */
  query(expr: string, time?: number): Promise<QueryResult>;
  /** The series of an instant query that must return a vector. */
  vector(expr: string): Promise<VectorSample[]>;
  /** Every metric name Prometheus has stored. */
  metricNames(): Promise<string[]>;
  /**
   * Replaces the rule files: rewrites the config, reloads it (SIGHUP) and waits until the
   * reload succeeded and every file's groups are loaded.
   */
  loadRules(ruleFiles: string[], timeoutMs?: number): Promise<void>;
  /** /api/v1/alerts, /api/v1/targets and /api/v1/rules (alerts only) and the log tail, for failure messages. */
  diagnostics(): Promise<string>;
}

export interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}
export type QueryResult =
  | { resultType: "vector"; result: VectorSample[] }
  | { resultType: "scalar" | "string"; result: [number, string] }
  | { resultType: "matrix"; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };

export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: "pending" | "firing";
  activeAt: string;
  value: string;
}

export interface PrometheusTarget {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: "up" | "down" | "unknown";
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
}

/** Thrown for an `error` answer of the HTTP API (a bad query, for instance), with Prometheus' message. */
export class PrometheusApiError extends Error {
  constructor(
    readonly path: string,
    readonly errorType: string,
    readonly detail: string,
  ) {
    super(`Prometheus ${path}: ${errorType}: ${detail}`);
  }
}

export async function startPrometheus(initial: PrometheusOptions): Promise<Prometheus> {
  let options = { ...initial };
  let configFile = "";
  const daemon = await startDaemon({
    name: "prometheus",
    bin: PROMETHEUS_BIN,
    startTimeoutMs: options.startTimeoutMs ?? 30_000,
    prepare(dir, address) {
      configFile = join(dir, "prometheus.yml");
      writeFileSync(configFile, prometheusYaml(options));
      return [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=${address}`,
        // Alerts' generatorURL points at loopback, not at the machine's hostname.
        `--web.external-url=http://${address}/`,
        `--rules.alert.resend-delay=${options.alertResendDelay ?? "1s"}`,
        "--log.level=info",
      ];
    },
  });
  const api = async <T>(path: string, params: Record<string, string | string[]> = {}): Promise<T> => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      for (const v of Array.isArray(value) ? value : [value]) search.append(key, v);
    }
    const url = `${daemon.url}/api/v1/${path}${search.size > 0 ? `?${search}` : ""}`;
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    let body: { status?: string; data?: T; errorType?: string; error?: string };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`Prometheus ${path}: HTTP ${response.status}, not JSON: ${text.slice(0, 500)}`);
    }
    if (body.status !== "success") {
      throw new PrometheusApiError(path, body.errorType ?? `HTTP ${response.status}`, body.error ?? text.slice(0, 500));
    }
    return body.data as T;
  };
  const query = (expr: string, time?: number) =>
    api<QueryResult>("query", { query: expr, ...(time !== undefined ? { time: String(time) } : {}) });
  return {
    ...daemon,
    api,
    query,
    async vector(expr) {
      const data = await query(expr);
      if (data.resultType !== "vector") throw new Error(`${expr}: expected a vector, got a ${data.resultType}`);
      return data.result;
    },
    metricNames: () => api<string[]>("label/__name__/values"),
    async loadRules(ruleFiles, timeoutMs = 20_000) {
      type RuntimeInfo = { reloadConfigSuccess: boolean; lastConfigTime: string };
      const before = (await api<RuntimeInfo>("status/runtimeinfo")).lastConfigTime;
      options = { ...options, ruleFiles };
      writeFileSync(configFile, prometheusYaml(options));
      process.kill(daemon.pid, "SIGHUP");
      await waitFor(
        `Prometheus to reload its configuration with rule files ${ruleFiles.join(", ")}`,
        async () => {
          if (!isAlive(daemon.pid)) throw new GiveUp("prometheus exited");
          const info = await api<RuntimeInfo>("status/runtimeinfo");
          if (!info.reloadConfigSuccess) throw new GiveUp("the configuration reload failed");
          if (info.lastConfigTime === before) return false;
          const { groups } = await api<{ groups: Array<{ file: string }> }>("rules");
          return ruleFiles.every((f) => groups.some((g) => g.file === f));
        },
        { timeoutMs, intervalMs: 100, describe: () => `Prometheus log (tail):\n${daemon.logTail(20)}` },
      );
    },
    async diagnostics() {
      const section = async (title: string, fetchIt: () => Promise<unknown>) => {
        try {
          return `--- ${title}\n${JSON.stringify(await fetchIt(), null, 1)}`;
        } catch (error) {
          return `--- ${title}\n(failed: ${(error as Error).message})`;
        }
      };
      return [
        await section("Prometheus /api/v1/alerts", () => api("alerts")),
        await section("Prometheus /api/v1/targets", async () => {
          const data = await api<{ activeTargets: PrometheusTarget[] }>("targets");
          return data.activeTargets.map((t) => ({
            labels: t.labels,
            scrapeUrl: t.scrapeUrl,
            health: t.health,
            lastError: t.lastError,
            lastScrape: t.lastScrape,
            lastScrapeDuration: t.lastScrapeDuration,
          }));
        }),
        await section("Prometheus /api/v1/alertmanagers", () => api("alertmanagers")),
        await section("Prometheus /api/v1/rules (alerting: name, state, health, lastError)", async () => {
          const data = await api<{ groups: Array<{ rules: Array<Record<string, unknown>> }> }>("rules", { type: "alert" });
          return data.groups.flatMap((g) =>
            g.rules.map((r) => ({ name: r["name"], state: r["state"], health: r["health"], lastError: r["lastError"] })),
          );
        }),
        `--- Prometheus log (tail)\n${daemon.logTail(20)}`,
      ].join("\n");
    },
  };
}

function prometheusYaml(options: PrometheusOptions): string {
  const interval = options.scrapeInterval ?? "1s";
  const lines = [
    "# generated by test/support/prometheus.ts",
    "global:",
    `  scrape_interval: ${interval}`,
    `  scrape_timeout: ${options.scrapeTimeout ?? interval}`,
    `  evaluation_interval: ${options.evaluationInterval ?? interval}`,
    "rule_files:",
    ...(options.ruleFiles ?? []).map((f) => `  - ${q(f)}`),
  ];
  if ((options.ruleFiles ?? []).length === 0) lines[lines.length - 1] = "rule_files: []";
  if (options.alertmanager !== undefined) {
    lines.push(
      "alerting:",
      "  alertmanagers:",
      "    - api_version: v2",
      "      timeout: 5s",
      "      static_configs:",
      `        - targets: [${q(options.alertmanager)}]`,
    );
  }
  lines.push("scrape_configs:");
  for (const target of options.scrape) {
    lines.push(
      `  - job_name: ${q(target.job)}`,
      `    metrics_path: ${q(target.metricsPath ?? "/metrics")}`,
      "    static_configs:",
      `      - targets: [${target.targets.map(q).join(", ")}]`,
    );
  }
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------
// promtool

export interface PromtoolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs promtool with `args`, feeding `stdin` when given; never throws on a non-zero exit. */
export function promtool(args: readonly string[], stdin?: string): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      PROMTOOL_BIN,
      [...args],
      { maxBuffer: 16 * 1024 * 1024, timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(error);
          return;
        }
        resolve({ code: error ? (error.code as unknown as number) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(stdin ?? "");
  });
}

/** `promtool check rules FILE`: throws with promtool's output when the file is not valid. */
export async function checkRules(file: string): Promise<void> {
  try {
    await run(PROMTOOL_BIN, ["check", "rules", file]);
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`promtool check rules ${file} failed:\n${e.stdout ?? ""}${e.stderr ?? e.message}`);
  }
}
