// Measuring the exporter and the floor against a seeded containerd: child processes, scrapes,
// in-process call counts, the ctr reference.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { pino } from "pino";
import type { FastifyBaseLogger } from "fastify";
import { ContainerdClient } from "../src/containerd/client.js";
import { classify } from "../src/inventory/classify.js";
import { InventoryReader } from "../src/inventory/read.js";
import { InventorySource } from "../src/inventory/source.js";
import type { Policy } from "../src/inventory/states.js";
import { ExporterMetrics } from "../src/metrics/exporter-metrics.js";
import { packageRoot } from "../src/util/package.js";
import { onExit } from "../test/lab/cleanup.js";
import { run } from "../test/lab/exec.js";
import { freePort } from "../test/lab/ports.js";
import type { FloorRun } from "./floor.js";
import { cpuMs, peakRssKb, rssKb } from "./proc.js";
import { BENCH_POLICY_FLAGS } from "./profiles.js";

export type Runtime = "dist" | "tsx";

/** The policy BENCH_POLICY_FLAGS give the exporter, for in-process runs. */
export const BENCH_POLICY: Policy = { leaseStaleAfterMs: 1000, ingestIdleAfterMs: 24 * 3600_000 };

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** Nearest-rank percentile. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

function entry(runtime: Runtime, script: "exporter" | "floor"): string[] {
  const root = packageRoot();
  if (runtime === "dist") {
    return [join(root, script === "exporter" ? "dist/src/cli/main.js" : "dist/bench/floor.js")];
  }
  return ["--import", "tsx", join(root, script === "exporter" ? "src/cli/main.ts" : "bench/floor.ts")];
}

/** Compiles src/ and bench/ into dist/ (the exporter as shipped: `node dist/src/cli/main.js`). */
export async function buildDist(): Promise<void> {
  const root = packageRoot();
  try {
    await run(join(root, "node_modules/.bin/tsc"), ["-p", join(root, "tsconfig.json")], { timeoutMs: 600_000 });
  } catch (error) {
    // tsc emits even with type errors elsewhere in the tree (other work in progress); only a
    // missing output is fatal, and the spawn below would show it.
    process.stderr.write(`tsc reported errors (output still emitted): ${(error as Error).message.slice(0, 2000)}\n`);
  }
}

// --- the exporter as a process --------------------------------------------------------

export interface ExporterProcess {
  pid: number;
  port: number;
  /** Spawn to /healthz answering. */
  startupMs: number;
  stderr(): string;
  stop(): Promise<void>;
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  if (await waitExit(child, 10_000)) return;
  child.kill("SIGKILL");
  await waitExit(child, 5_000);
}

export async function startExporter(runtime: Runtime, socket: string): Promise<ExporterProcess> {
  const port = await freePort();
  const args = [
    ...entry(runtime, "exporter"),
    "serve",
    `--containerd.address=${socket}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--scrape.timeout=120s",
    "--containerd.timeout=120s",
    "--log.level=warn",
    ...BENCH_POLICY_FLAGS,
  ];
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], cwd: packageRoot() });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-20_000)));
  // Killed with the runner even when a signal ends it (the lab's exit-time cleanup).
  const unregister = onExit(() => child.kill("SIGKILL"));
  const stop = () => stopChild(child).finally(unregister);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`exporter exited (${child.exitCode}): ${stderr}`);
      if (performance.now() - started > 60_000) throw new Error(`exporter did not listen within 60s: ${stderr}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        await res.text();
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: child.pid as number, port, startupMs: performance.now() - started, stderr: () => stderr, stop };
}

export interface Scrape {
  ms: number;
  bytes: number;
  series: number;
  /** containerd_up was 1 and every collector succeeded. */
  complete: boolean;
}

export async function scrape(port: number): Promise<Scrape> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const body = await res.text();
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`/metrics answered ${res.status}: ${body.slice(0, 500)}`);
  return { ms, ...describeBody(body) };
}

export function describeBody(body: string): { bytes: number; series: number; complete: boolean } {
  let series = 0;
  let complete = /^containerd_up 1$/m.test(body);
  for (const line of body.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    series++;
    if (line.startsWith("containerd_scrape_collector_success{") && line.endsWith(" 0")) complete = false;
  }
  return { bytes: Buffer.byteLength(body), series, complete };
}

export interface ExporterRound {
  startupMs: number;
  /** VmRSS once /healthz answers, right before the first scrape. */
  rssAtStartKb: number;
  coldMs: number;
  warmMs: number[];
  bytes: number;
  series: number;
  incompleteScrapes: number;
  containerdCpuMsPerScrape: number;
  exporterCpuMsPerScrape: number;
  peakRssKb: number;
  /** Peak RSS after the cold and warm sequential scrapes, before the concurrent ones. */
  peakRssSequentialKb: number;
  coalescing: { rounds: number; singleCpuMs: number; concurrentCpuMs: number; concurrentWallMs: number; singleWallMs: number };
  soak?: SoakResult;
}

export interface SoakResult {
  seconds: number;
  scrapes: number;
  samples: { t: number; rssKb: number }[];
}

/** One fresh exporter process: cold scrape, warm scrapes, 1 vs 10 concurrent, optional soak. */
export async function measureExporter(
  runtime: Runtime,
  socket: string,
  containerdPid: number,
  warm: number,
  options: { coalescingRounds?: number; soakSeconds?: number; log?: (m: string) => void } = {},
): Promise<ExporterRound> {
  const exporter = await startExporter(runtime, socket);
  try {
    const rssAtStartKb = rssKb(exporter.pid);
    let incomplete = 0;
    const cold = await scrape(exporter.port);
    if (!cold.complete) incomplete++;
    const warmMs: number[] = [];
    const cd0 = cpuMs(containerdPid);
    const ex0 = cpuMs(exporter.pid);
    let last = cold;
    for (let i = 0; i < warm; i++) {
      last = await scrape(exporter.port);
      if (!last.complete) incomplete++;
      warmMs.push(last.ms);
    }
    const containerdCpuMsPerScrape = (cpuMs(containerdPid) - cd0) / warm;
    const exporterCpuMsPerScrape = (cpuMs(exporter.pid) - ex0) / warm;
    const peakRssSequentialKb = peakRssKb(exporter.pid);

    // Ten scrapes at once must cost containerd one pass.
    const rounds = options.coalescingRounds ?? 5;
    let t = performance.now();
    let c = cpuMs(containerdPid);
    for (let i = 0; i < rounds; i++) await scrape(exporter.port);
    const singleCpuMs = (cpuMs(containerdPid) - c) / rounds;
    const singleWallMs = (performance.now() - t) / rounds;
    t = performance.now();
    c = cpuMs(containerdPid);
    for (let i = 0; i < rounds; i++) {
      const all = await Promise.all(Array.from({ length: 10 }, () => scrape(exporter.port)));
      incomplete += all.filter((s) => !s.complete).length;
    }
    const concurrentCpuMs = (cpuMs(containerdPid) - c) / rounds;
    const concurrentWallMs = (performance.now() - t) / rounds;

    let soak: SoakResult | undefined;
    if (options.soakSeconds && options.soakSeconds > 0) {
      options.log?.(`    soak ${options.soakSeconds}s`);
      soak = { seconds: options.soakSeconds, scrapes: 0, samples: [] };
      const start = performance.now();
      let nextSample = 0;
      while (performance.now() - start < options.soakSeconds * 1000) {
        const elapsed = (performance.now() - start) / 1000;
        if (elapsed >= nextSample) {
          soak.samples.push({ t: Math.round(elapsed), rssKb: rssKb(exporter.pid) });
          nextSample += Math.max(2, options.soakSeconds / 60);
        }
        const s = await scrape(exporter.port);
        if (!s.complete) incomplete++;
        soak.scrapes++;
      }
      soak.samples.push({ t: Math.round((performance.now() - start) / 1000), rssKb: rssKb(exporter.pid) });
    }
    return {
      startupMs: exporter.startupMs,
      rssAtStartKb,
      coldMs: cold.ms,
      warmMs,
      bytes: last.bytes,
      series: last.series,
      incompleteScrapes: incomplete,
      containerdCpuMsPerScrape,
      exporterCpuMsPerScrape,
      peakRssKb: peakRssKb(exporter.pid),
      peakRssSequentialKb,
      coalescing: { rounds, singleCpuMs, concurrentCpuMs, concurrentWallMs, singleWallMs },
      ...(soak ? { soak } : {}),
    };
  } catch (error) {
    throw new Error(`${(error as Error).message}\nexporter stderr:\n${exporter.stderr()}`);
  } finally {
    await exporter.stop();
  }
}

/** The floor in a fresh process (bench/floor.ts). */
export async function measureFloor(runtime: Runtime, socket: string, containerdPid: number, passes: number): Promise<FloorRun> {
  const args = [...entry(runtime, "floor"), `--address=${socket}`, `--passes=${passes}`, `--containerd-pid=${containerdPid}`];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], cwd: packageRoot() });
  const unregister = onExit(() => child.kill("SIGKILL"));
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (err = (err + chunk.toString("utf8")).slice(-20_000)));
  const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
  unregister();
  if (code !== 0) throw new Error(`floor exited with ${code}: ${err}`);
  return JSON.parse(out.trim().split("\n").at(-1) as string) as FloorRun;
}

// --- in-process: call counts and where the time goes -----------------------------------

export interface InProcessScrape {
  calls: Record<string, number>;
  readMs: number;
  classifyMs: number;
  renderMs: number;
  series: number;
  bytes: number;
}

export interface InProcessResult {
  cold: InProcessScrape;
  warm: InProcessScrape;
  /** Snapshots seen and how many of them are active: the warm scrape's Usage calls must match the latter. */
  snapshots: number;
  activeSnapshots: number;
  coalescing: { single: Record<string, number>; concurrent10: Record<string, number> };
}

function silentLogger(): FastifyBaseLogger {
  return pino({ level: "silent" }) as unknown as FastifyBaseLogger;
}

function diffCounts(after: Map<string, number>, before: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of [...after].sort()) if (v - (before.get(k) ?? 0) > 0) out[k] = v - (before.get(k) ?? 0);
  return out;
}

/** Scrapes with the library itself to count gRPC calls by method (ContainerdClient.callCounts). */
export async function measureInProcess(socket: string): Promise<InProcessResult> {
  const client = new ContainerdClient({ address: socket, callTimeoutMs: 120_000 });
  const reader = new InventoryReader(client);
  const source = new InventorySource(reader, BENCH_POLICY, silentLogger());
  const metrics = new ExporterMetrics();
  const once = async (): Promise<InProcessScrape & { snapshots: number; active: number }> => {
    const before = new Map(client.callCounts);
    const t0 = performance.now();
    const inventory = await reader.read(Date.now() + 300_000);
    const t1 = performance.now();
    const classified = classify(inventory, BENCH_POLICY, Date.now() / 1000);
    const t2 = performance.now();
    const { body } = await metrics.render({ classified, exporterVersion: "bench", leaseDetailLimit: 10 }, false);
    const t3 = performance.now();
    const snaps = inventory.namespaces.flatMap((ns) => ns.snapshots);
    const { bytes, series } = describeBody(body);
    return {
      calls: diffCounts(client.callCounts, before),
      readMs: t1 - t0,
      classifyMs: t2 - t1,
      renderMs: t3 - t2,
      series,
      bytes,
      snapshots: snaps.length,
      active: snaps.filter((s) => s.kind !== "committed").length,
    };
  };
  try {
    const cold = await once();
    const warm = await once();
    let before = new Map(client.callCounts);
    await source.classified(Date.now() + 300_000);
    const single = diffCounts(client.callCounts, before);
    before = new Map(client.callCounts);
    await Promise.all(Array.from({ length: 10 }, () => source.classified(Date.now() + 300_000)));
    const concurrent10 = diffCounts(client.callCounts, before);
    const strip = ({ snapshots: _s, active: _a, ...rest }: typeof cold): InProcessScrape => rest;
    return {
      cold: strip(cold),
      warm: strip(warm),
      snapshots: warm.snapshots,
      activeSnapshots: warm.active,
      coalescing: { single, concurrent10 },
    };
  } finally {
    client.close();
  }
}

// --- the ctr reference ----------------------------------------------------------------

export interface CtrReference {
  totalMs: number;
  byCommand: Record<string, number>;
}

/** Wall time of listing the same objects with ctr (no lease resources, no usage): reference only. */
export async function measureCtr(socket: string, namespaces: string[], repeats = 3): Promise<CtrReference> {
  const commands = [
    ["leases", "ls"],
    ["content", "ls"],
    ["snapshots", "--snapshotter", "overlayfs", "ls"],
    ["snapshots", "--snapshotter", "native", "ls"],
    ["images", "ls"],
  ];
  const totals: number[] = [];
  const by: Record<string, number[]> = {};
  for (let r = 0; r < repeats; r++) {
    let total = 0;
    for (const command of commands) {
      const name = command.filter((c) => c !== "--snapshotter").join(" ");
      let ms = 0;
      for (const ns of namespaces) {
        const t0 = performance.now();
        await run("ctr", ["--address", socket, "--namespace", ns, ...command], { timeoutMs: 300_000 });
        ms += performance.now() - t0;
      }
      (by[name] ??= []).push(ms);
      total += ms;
    }
    totals.push(total);
  }
  return { totalMs: median(totals), byCommand: Object.fromEntries(Object.entries(by).map(([k, v]) => [k, median(v)])) };
}
