// The benchmark runner: for each profile, a fresh lab, the seeder, then the exporter against
// the floor on the same data; then the classification micro-benchmark; then BENCHMARKS.md.
//
//   npm run bench [-- --profile node,ci-host,large|smoke] [--soak SECONDS] [--warm N] [--rounds N]
//                 [--runtime dist|tsx] [--results-dir DIR] [--markdown FILE|""] [--render-only]
//                 [--containerd-bin PATH]
//
// Results go to <results-dir>/<profile>.json (one file per profile, so profiles can be re-run
// one at a time) and BENCHMARKS.md is rendered from every result file there. With
// --containerd-bin (a containerd binary, its ctr beside it) the lab runs that build instead of
// the one on PATH, and results of another minor version go to <profile>.containerd-<x.y>.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ContainerdClient } from "../src/containerd/client.js";
import { packageRoot } from "../src/util/package.js";
import { startLab } from "../test/lab/lab.js";
import { classificationBench, type ClassifyRow } from "./classify-bench.js";
import type { FloorRun } from "./floor.js";
import {
  buildDist,
  type CtrReference,
  type ExporterRound,
  type InProcessResult,
  measureCtr,
  measureExporter,
  measureFloor,
  measureInProcess,
  median,
  percentile,
  type Runtime,
} from "./measure.js";
import { type Profile, profileByName } from "./profiles.js";
import { renderMarkdown } from "./report.js";
import { seed, type SeedResult } from "./seed.js";

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  kernel: string;
  node: string;
  containerd: string;
  loadavgAtStart: number[];
}

export interface ProfileResult {
  profile: Profile["name"];
  date: string;
  command: string;
  runtime: Runtime;
  machine: Machine;
  seed: SeedResult;
  inProcess: InProcessResult;
  ctr: CtrReference;
  floorRuns: FloorRun[];
  exporterRounds: ExporterRound[];
  summary: Summary;
}

export interface Summary {
  exporter: { rssAtStartMb: number; coldMs: number; warmMedianMs: number; warmP95Ms: number; peakRssMb: number; bodyKb: number; series: number; containerdCpuMsPerScrape: number; exporterCpuMsPerScrape: number; startupMs: number; incompleteScrapes: number };
  floor: { coldMs: number; warmMedianMs: number; warmP95Ms: number; peakRssMb: number; containerdCpuMsPerPass: number; cpuMsPerPass: number };
  ratios: { cold: number; warmMedian: number; warmP95: number; containerdCpu: number };
  coalescing: { namespacesListSingle: number; namespacesListConcurrent10: number; containerdCpuSingleMs: number; containerdCpuConcurrent10Ms: number; cpuRatio: number };
  usageOnce: { snapshots: number; activeSnapshots: number; coldUsageCalls: number; warmUsageCalls: number; ok: boolean };
  soak?: { seconds: number; scrapes: number; firstRssMb: number; maxRssMb: number; lastRssMb: number };
}

export interface ClassificationResult {
  date: string;
  rows: ClassifyRow[];
}

export interface RunOptions {
  profiles: Profile["name"][];
  warm: number;
  rounds: number;
  soakSeconds: number;
  runtime: Runtime;
  resultsDir: string;
  /** Path of the Markdown report, or null for none. */
  markdown: string | null;
  classifySizes: number[];
  command: string;
  labDir?: string;
  log?: (message: string) => void;
}

export interface RunResult {
  profiles: ProfileResult[];
  classification: ClassificationResult | null;
}

async function machine(socket: string): Promise<Machine> {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? "unknown";
  const client = new ContainerdClient({ address: socket });
  let containerd = "unknown";
  try {
    const v = await client.version();
    containerd = `${v.version} (${v.revision})`;
  } finally {
    client.close();
  }
  return {
    cpu: model.trim(),
    cores: cpus().length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    containerd,
    loadavgAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function summarize(inProcess: InProcessResult, floorRuns: FloorRun[], rounds: ExporterRound[]): Summary {
  const exWarm = rounds.flatMap((r) => r.warmMs);
  const flWarm = floorRuns.flatMap((f) => f.warmMs);
  const exporter = {
    rssAtStartMb: Math.max(...rounds.map((r) => r.rssAtStartKb ?? 0)) / 1024,
    coldMs: median(rounds.map((r) => r.coldMs)),
    warmMedianMs: median(exWarm),
    warmP95Ms: percentile(exWarm, 95),
    peakRssMb: Math.max(...rounds.map((r) => r.peakRssKb)) / 1024,
    bodyKb: Math.max(...rounds.map((r) => r.bytes)) / 1024,
    series: Math.max(...rounds.map((r) => r.series)),
    containerdCpuMsPerScrape: median(rounds.map((r) => r.containerdCpuMsPerScrape)),
    exporterCpuMsPerScrape: median(rounds.map((r) => r.exporterCpuMsPerScrape)),
    startupMs: median(rounds.map((r) => r.startupMs)),
    incompleteScrapes: rounds.reduce((a, r) => a + r.incompleteScrapes, 0),
  };
  const floor = {
    coldMs: median(floorRuns.map((f) => f.coldMs)),
    warmMedianMs: median(flWarm),
    warmP95Ms: percentile(flWarm, 95),
    peakRssMb: Math.max(...floorRuns.map((f) => f.peakRssKb)) / 1024,
    containerdCpuMsPerPass: median(floorRuns.map((f) => f.containerdCpuMsPerPass ?? 0)),
    cpuMsPerPass: median(floorRuns.map((f) => f.selfCpuMsPerPass)),
  };
  const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
  const soakRound = rounds.find((r) => r.soak);
  const soakSamples = soakRound?.soak?.samples ?? [];
  return {
    exporter,
    floor,
    ratios: {
      cold: ratio(exporter.coldMs, floor.coldMs),
      warmMedian: ratio(exporter.warmMedianMs, floor.warmMedianMs),
      warmP95: ratio(exporter.warmP95Ms, floor.warmP95Ms),
      containerdCpu: ratio(exporter.containerdCpuMsPerScrape, floor.containerdCpuMsPerPass),
    },
    coalescing: {
      namespacesListSingle: inProcess.coalescing.single["Namespaces/List"] ?? 0,
      namespacesListConcurrent10: inProcess.coalescing.concurrent10["Namespaces/List"] ?? 0,
      containerdCpuSingleMs: median(rounds.map((r) => r.coalescing.singleCpuMs)),
      containerdCpuConcurrent10Ms: median(rounds.map((r) => r.coalescing.concurrentCpuMs)),
      cpuRatio: ratio(median(rounds.map((r) => r.coalescing.concurrentCpuMs)), median(rounds.map((r) => r.coalescing.singleCpuMs))),
    },
    usageOnce: {
      snapshots: inProcess.snapshots,
      activeSnapshots: inProcess.activeSnapshots,
      coldUsageCalls: inProcess.cold.calls["Snapshots/Usage"] ?? 0,
      warmUsageCalls: inProcess.warm.calls["Snapshots/Usage"] ?? 0,
      ok:
        (inProcess.cold.calls["Snapshots/Usage"] ?? 0) === inProcess.snapshots &&
        (inProcess.warm.calls["Snapshots/Usage"] ?? 0) === inProcess.activeSnapshots,
    },
    ...(soakRound?.soak && soakSamples.length > 0
      ? {
          soak: {
            seconds: soakRound.soak.seconds,
            scrapes: soakRound.soak.scrapes,
            firstRssMb: (soakSamples[0]?.rssKb ?? 0) / 1024,
            maxRssMb: Math.max(...soakSamples.map((s) => s.rssKb)) / 1024,
            lastRssMb: (soakSamples.at(-1)?.rssKb ?? 0) / 1024,
          },
        }
      : {}),
  };
}

async function runProfile(name: Profile["name"], options: RunOptions): Promise<ProfileResult> {
  const log = options.log ?? (() => undefined);
  const profile = profileByName(name);
  log(`== ${name}: starting a lab`);
  const lab = await startLab(options.labDir ? { dir: options.labDir } : {});
  try {
    const info = await machine(lab.socket);
    log(`== ${name}: seeding`);
    const seeded = await seed(lab.socket, profile, { log });
    const pid = lab.containerd.pid;
    log(`== ${name}: seeded in ${seeded.seconds.toFixed(1)}s; in-process call counts`);
    const inProcess = await measureInProcess(lab.socket);
    log(`   cold read ${inProcess.cold.readMs.toFixed(0)}ms classify ${inProcess.cold.classifyMs.toFixed(0)}ms render ${inProcess.cold.renderMs.toFixed(0)}ms; warm read ${inProcess.warm.readMs.toFixed(0)}ms classify ${inProcess.warm.classifyMs.toFixed(0)}ms render ${inProcess.warm.renderMs.toFixed(0)}ms`);
    log(`== ${name}: ctr reference`);
    const ctr = await measureCtr(lab.socket, profile.namespaces.map((n) => n.name), options.rounds > 1 ? 3 : 1);
    const floorRuns: FloorRun[] = [];
    const exporterRounds: ExporterRound[] = [];
    for (let round = 0; round < options.rounds; round++) {
      log(`== ${name}: round ${round + 1}/${options.rounds}: floor`);
      const floor = await measureFloor(options.runtime, lab.socket, pid, options.warm);
      floorRuns.push(floor);
      log(`   floor cold ${floor.coldMs.toFixed(0)}ms warm median ${median(floor.warmMs).toFixed(0)}ms`);
      log(`== ${name}: round ${round + 1}/${options.rounds}: exporter`);
      const last = round === options.rounds - 1;
      const ex = await measureExporter(options.runtime, lab.socket, pid, options.warm, {
        soakSeconds: last ? options.soakSeconds : 0,
        log,
      });
      exporterRounds.push(ex);
      log(`   exporter cold ${ex.coldMs.toFixed(0)}ms warm median ${median(ex.warmMs).toFixed(0)}ms rss ${(ex.peakRssKb / 1024).toFixed(0)}MB`);
    }
    const summary = summarize(inProcess, floorRuns, exporterRounds);
    return {
      profile: name,
      date: new Date().toISOString(),
      command: options.command,
      runtime: options.runtime,
      machine: info,
      seed: seeded,
      inProcess,
      ctr,
      floorRuns,
      exporterRounds,
      summary,
    };
  } finally {
    await lab.stop();
  }
}

/** containerd 1.6 (the system's) is the reference; another minor version gets its own file. */
export function resultName(result: Pick<ProfileResult, "profile" | "machine">): string {
  const minor = /^v?(\d+\.\d+)/.exec(result.machine.containerd)?.[1];
  return minor === undefined || minor === REFERENCE_MINOR ? result.profile : `${result.profile}.containerd-${minor}`;
}

export const REFERENCE_MINOR = "1.6";

/** Puts a containerd build (and its ctr, beside it) first on PATH, where the lab looks for it. */
function useContainerd(bin: string): void {
  const path = resolve(bin);
  if (basename(path) !== "containerd" || !existsSync(path)) throw new Error(`--containerd-bin: no containerd binary at ${path}`);
  process.env.PATH = `${dirname(path)}:${process.env.PATH ?? ""}`;
}

export async function runBench(options: RunOptions): Promise<RunResult> {
  const log = options.log ?? (() => undefined);
  mkdirSync(options.resultsDir, { recursive: true });
  if (options.runtime === "dist") {
    log("== building dist/ (tsc)");
    await buildDist();
  }
  const profiles: ProfileResult[] = [];
  for (const name of options.profiles) {
    const result = await runProfile(name, options);
    writeFileSync(join(options.resultsDir, `${resultName(result)}.json`), `${JSON.stringify(result, null, 2)}\n`);
    profiles.push(result);
  }
  let classification: ClassificationResult | null = null;
  if (options.classifySizes.length > 0) {
    log(`== classification micro-benchmark: ${options.classifySizes.join(", ")} resources`);
    classification = { date: new Date().toISOString(), rows: await classificationBench(options.classifySizes) };
    writeFileSync(join(options.resultsDir, "classification.json"), `${JSON.stringify(classification, null, 2)}\n`);
  }
  if (options.markdown) {
    writeFileSync(options.markdown, renderMarkdown(options.resultsDir));
    log(`== wrote ${options.markdown}`);
  }
  return { profiles, classification };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      profile: { type: "string", default: "node,ci-host" },
      soak: { type: "string", default: "0" },
      warm: { type: "string", default: "25" },
      rounds: { type: "string", default: "3" },
      runtime: { type: "string", default: "dist" },
      "results-dir": { type: "string" },
      markdown: { type: "string" },
      "classify-sizes": { type: "string", default: "10000,20000,50000,100000" },
      "lab-dir": { type: "string" },
      "render-only": { type: "boolean", default: false },
      "containerd-bin": { type: "string" },
    },
  });
  const root = packageRoot();
  if (values["render-only"]) {
    const dir = resolve(values["results-dir"] ?? join(root, "bench/results"));
    const out = values.markdown || join(root, "BENCHMARKS.md");
    writeFileSync(out, renderMarkdown(dir));
    console.error(`wrote ${out} from ${dir}`);
    return;
  }
  if (values["containerd-bin"]) useContainerd(values["containerd-bin"]);
  const profiles = (values.profile as string).split(",").map((p) => profileByName(p.trim()).name);
  const smokeOnly = profiles.every((p) => p === "smoke");
  const runtime = values.runtime as Runtime;
  if (runtime !== "dist" && runtime !== "tsx") throw new Error("--runtime is dist or tsx");
  const resultsDir = resolve(values["results-dir"] ?? join(root, smokeOnly ? ".lab/bench-smoke" : "bench/results"));
  const markdown = values.markdown === undefined ? (smokeOnly ? null : join(root, "BENCHMARKS.md")) : values.markdown || null;
  await runBench({
    profiles,
    warm: Number(values.warm),
    rounds: Number(values.rounds),
    soakSeconds: Number(values.soak),
    runtime,
    resultsDir,
    markdown,
    classifySizes: (values["classify-sizes"] as string).split(",").filter(Boolean).map(Number),
    // Quoted where the shell needs it (an empty --classify-sizes), so the command can be pasted.
    command: `npm run bench -- ${process.argv.slice(2).map((a) => (a === "" || /[\s"']/.test(a) ? JSON.stringify(a) : a)).join(" ")}`.trim(),
    ...(values["lab-dir"] ? { labDir: values["lab-dir"] } : {}),
    log: (m) => console.error(m),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
