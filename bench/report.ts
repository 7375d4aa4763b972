// Renders BENCHMARKS.md from the result files of bench/run.ts.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../src/util/package.js";
import type { ClassificationResult, ProfileResult } from "./run.js";

const PROFILE_ORDER = ["node", "ci-host", "large", "smoke"] as const;

/** Objects a profile's store holds, as the seeder counted them (what memory grows with). */
export function objectCount(r: ProfileResult): number {
  const p = r.seed.present;
  return p.blobs + p.snapshots + p.leases + p.ingests + p.images + p.containers;
}

/** The large profile's bound: 60 MB plus 1 KB per object. */
export const largeBoundMb = (objects: number): number => 60 + objects / 1024;

/** The other containerd versions' results for a profile (files <profile>.containerd-<x.y>.json). */
function otherVersions(resultsDir: string): ProfileResult[] {
  if (!existsSync(resultsDir)) return [];
  return readdirSync(resultsDir)
    .filter((f) => /^[a-z-]+\.containerd-[\d.]+\.json$/.test(f))
    .sort()
    .map((f) => load<ProfileResult>(join(resultsDir, f)))
    .filter((r): r is ProfileResult => r !== undefined);
}

/** The release a run was measured on: "2.1.9+unknown (…)" → "2.1.9" (Debian's builds add a suffix of their own). */
const versionOf = (r: ProfileResult) => (r.machine.containerd.split(" ")[0] ?? r.machine.containerd).replace(/[+~].*$/, "");
/** How the seed's lease kinds read in the summary: "permanent" leases never expire, and classify as owned or leaked. */
const LEASE_KIND_NAMES: Record<string, string> = { permanent: "never expiring" };

function load<T>(path: string): T | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as T) : undefined;
}

const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`);
const x = (v: number) => `${v.toFixed(2)}×`;
const mb = (v: number) => `${v.toFixed(0)} MB`;

interface Target {
  what: string;
  goal: string;
  measured: string;
  met: boolean;
}

export function targets(
  results: Partial<Record<string, ProfileResult>>,
  classification?: ClassificationResult,
  others: ProfileResult[] = [],
): Target[] {
  const out: Target[] = [];
  const memory = (label: string, r: ProfileResult, peakGoalMb: number) => {
    const s = r.summary.exporter;
    out.push({
      what: `${label} exporter peak RSS (VmHWM) over the whole round, 10 concurrent scrapes included`,
      goal: `≤ ${peakGoalMb} MB`,
      measured: mb(s.peakRssMb),
      met: s.peakRssMb <= peakGoalMb,
    });
    out.push({
      what: `${label} RSS before the first scrape`,
      goal: "≤ 60 MB",
      measured: s.rssAtStartMb ? mb(s.rssAtStartMb) : "not measured by this result file",
      met: (s.rssAtStartMb ?? 0) > 0 && s.rssAtStartMb <= 60,
    });
  };
  if (results["ci-host"]) memory("ci-host", results["ci-host"], 100);
  if (results.node) memory("node", results.node, 80);
  for (const r of others) if (r.profile === "node") memory(`node on containerd ${versionOf(r)}`, r, 80);
  const large = results.large;
  if (large) {
    const objects = objectCount(large);
    const bound = largeBoundMb(objects);
    const peak = large.summary.exporter.peakRssMb;
    out.push({
      what: `large (${objects} objects) exporter peak RSS`,
      goal: `≤ 60 MB + 1 KB per object = ${mb(bound)}`,
      measured: `${mb(peak)} (${(((peak - 60) * 1024) / objects).toFixed(2)} KB per object above 60 MB)`,
      met: peak <= bound,
    });
  }
  const ci = results["ci-host"];
  if (ci) {
    const s = ci.summary;
    out.push({
      what: "ci-host warm scrape vs floor (median)",
      goal: "≤ 1.3× floor",
      measured: `${ms(s.exporter.warmMedianMs)} vs ${ms(s.floor.warmMedianMs)} = ${x(s.ratios.warmMedian)} (p95 ${x(s.ratios.warmP95)})`,
      met: s.ratios.warmMedian <= 1.3,
    });
    out.push({
      what: "ci-host cold scrape vs floor",
      goal: "≤ 2× floor",
      measured: `${ms(s.exporter.coldMs)} vs ${ms(s.floor.coldMs)} = ${x(s.ratios.cold)}`,
      met: s.ratios.cold <= 2,
    });
    out.push({
      what: "ci-host cold and warm scrape, absolute",
      goal: "far under 10 s",
      measured: `cold ${ms(s.exporter.coldMs)}, warm p95 ${ms(s.exporter.warmP95Ms)}`,
      met: s.exporter.coldMs < 5000 && s.exporter.warmP95Ms < 5000,
    });
  }
  for (const name of ["node", "ci-host"]) {
    const r = results[name];
    if (!r) continue;
    out.push({
      what: `${name} /metrics body`,
      goal: "≤ 200 KB",
      measured: `${r.summary.exporter.bodyKb.toFixed(1)} KB, ${r.summary.exporter.series} series`,
      met: r.summary.exporter.bodyKb <= 200,
    });
  }
  for (const name of ["node", "ci-host"]) {
    const r = results[name];
    if (!r) continue;
    const c = r.summary.coalescing;
    out.push({
      what: `${name}: 10 concurrent scrapes cost one pass`,
      goal: "1 Namespaces/List; containerd CPU ≈ one scrape",
      measured: `Namespaces/List ${c.namespacesListConcurrent10} (vs ${c.namespacesListSingle} for one); containerd CPU ${ms(c.containerdCpuConcurrent10Ms)} vs ${ms(c.containerdCpuSingleMs)} = ${x(c.cpuRatio)}`,
      met: c.namespacesListConcurrent10 === 1 && c.cpuRatio <= 1.5,
    });
    const u = r.summary.usageOnce;
    out.push({
      what: `${name}: committed snapshot usage read once`,
      goal: "second scrape: Usage only for active snapshots",
      measured: `Usage calls: first scrape ${u.coldUsageCalls} (${u.snapshots} snapshots), second ${u.warmUsageCalls} (${u.activeSnapshots} active)`,
      met: u.ok,
    });
  }
  if (classification && classification.rows.length >= 2) {
    const rows = classification.rows;
    const first = rows[0]!;
    const last = rows.at(-1)!;
    const ratio = last.totalUsPerResource / first.totalUsPerResource;
    out.push({
      what: "classification + rendering grows linearly",
      goal: "time per resource roughly constant (≤ 1.5× from smallest to largest)",
      measured: `${first.totalUsPerResource.toFixed(2)} µs/resource at ${first.resources} → ${last.totalUsPerResource.toFixed(2)} µs at ${last.resources} (${x(ratio)})`,
      met: ratio <= 1.5,
    });
  }
  for (const r of others) {
    if (r.profile !== "node") continue;
    const s = r.summary;
    out.push({
      what: `node on containerd ${versionOf(r)}: warm scrape vs floor (median)`,
      goal: "reported beside 1.6 (no target of its own)",
      measured: `${ms(s.exporter.warmMedianMs)} vs ${ms(s.floor.warmMedianMs)} = ${x(s.ratios.warmMedian)}; cold ${x(s.ratios.cold)}`,
      met: true,
    });
  }
  for (const name of ["node", "ci-host"]) {
    const soak = results[name]?.summary.soak;
    if (!soak) continue;
    out.push({
      what: `${name}: RSS during a ${soak.seconds}s soak`,
      goal: "flat",
      measured: `${soak.scrapes} scrapes; RSS ${mb(soak.firstRssMb)} → ${mb(soak.lastRssMb)} (max ${mb(soak.maxRssMb)})`,
      met: soak.lastRssMb <= soak.firstRssMb * 1.2 + 5,
    });
  }
  return out;
}

function profileSection(r: ProfileResult): string {
  const s = r.summary;
  const p = r.seed.present;
  const lines: string[] = [];
  const version = versionOf(r);
  lines.push(`## Profile \`${r.profile}\`${version.startsWith("1.6") ? "" : ` on containerd ${version}`}`);
  lines.push("");
  lines.push(
    `Seeded in ${r.seed.seconds.toFixed(0)} s over ${p.namespaces} namespaces: ${p.images} images, ${p.blobs} blobs, ` +
      `${p.snapshots} snapshots (${p.activeSnapshots} active), ${p.leases} leases ` +
      `(${Object.entries(r.seed.planned.leasesByKind).map(([k, v]) => `${v} ${LEASE_KIND_NAMES[k] ?? k}`).join(", ")}), ${p.ingests} ingests, ${p.containers} containers` +
      (r.seed.warnings.length ? `. Seeder warnings: ${r.seed.warnings.join("; ")}` : "."),
  );
  lines.push(`Measured ${r.date.slice(0, 16).replace("T", " ")} UTC, exporter run as \`${r.runtime === "dist" ? "node dist/src/cli/main.js" : "node --import tsx src/cli/main.ts"}\`; ${r.exporterRounds.length} round(s) of floor then exporter, ${r.exporterRounds[0]?.warmMs.length ?? 0} warm scrapes each (pooled).`);
  lines.push("");
  lines.push("| | exporter | floor | exporter / floor |");
  lines.push("|---|---:|---:|---:|");
  lines.push(`| cold: first scrape of a fresh process | ${ms(s.exporter.coldMs)} | ${ms(s.floor.coldMs)} | ${x(s.ratios.cold)} |`);
  lines.push(`| warm: median | ${ms(s.exporter.warmMedianMs)} | ${ms(s.floor.warmMedianMs)} | ${x(s.ratios.warmMedian)} |`);
  lines.push(`| warm: p95 | ${ms(s.exporter.warmP95Ms)} | ${ms(s.floor.warmP95Ms)} | ${x(s.ratios.warmP95)} |`);
  lines.push(`| containerd CPU per scrape (warm) | ${ms(s.exporter.containerdCpuMsPerScrape)} | ${ms(s.floor.containerdCpuMsPerPass)} | ${x(s.ratios.containerdCpu)} |`);
  lines.push(`| own CPU per scrape (warm) | ${ms(s.exporter.exporterCpuMsPerScrape)} | ${ms(s.floor.cpuMsPerPass)} | |`);
  lines.push(`| peak RSS (VmHWM), whole round | ${mb(s.exporter.peakRssMb)} | ${mb(s.floor.peakRssMb)} | ${x(s.exporter.peakRssMb / s.floor.peakRssMb)} |`);
  const sequential = Math.max(...r.exporterRounds.map((e) => e.peakRssSequentialKb ?? 0)) / 1024;
  if (sequential > 0) lines.push(`| peak RSS after the sequential scrapes only (before the concurrent ones) | ${mb(sequential)} | | |`);
  if (s.exporter.rssAtStartMb) lines.push(`| RSS once listening, before the first scrape | ${mb(s.exporter.rssAtStartMb)} | | |`);
  lines.push(`| /metrics body | ${s.exporter.bodyKb.toFixed(1)} KB, ${s.exporter.series} series | | |`);
  lines.push(`| process start to listening | ${ms(s.exporter.startupMs)} | | |`);
  lines.push(`| incomplete scrapes (a collector failed) | ${s.exporter.incompleteScrapes} | | |`);
  lines.push(`| \`ctr\` listing the same (leases, content, snapshots ×2, images per namespace; no lease resources, no usage) | | ${ms(r.ctr.totalMs)} | |`);
  lines.push("");
  const ip = r.inProcess;
  const calls = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
  lines.push(`gRPC calls per scrape (counted in-process with \`ContainerdClient.callCounts\`):`);
  lines.push(`- first scrape: ${calls(ip.cold.calls)}`);
  lines.push(`- second scrape: ${calls(ip.warm.calls)}`);
  lines.push(`- 10 concurrent scrapes: ${calls(ip.coalescing.concurrent10)}`);
  lines.push(
    `- where a scrape's time goes in-process (first / second): read ${ms(ip.cold.readMs)} / ${ms(ip.warm.readMs)}, ` +
      `classify ${ms(ip.cold.classifyMs)} / ${ms(ip.warm.classifyMs)}, render ${ms(ip.cold.renderMs)} / ${ms(ip.warm.renderMs)}`,
  );
  const c = s.coalescing;
  lines.push(
    `- containerd CPU for one scrape ${ms(c.containerdCpuSingleMs)}, for 10 concurrent ${ms(c.containerdCpuConcurrent10Ms)} (${x(c.cpuRatio)}); ` +
      `wall ${ms(r.exporterRounds.at(-1)?.coalescing.singleWallMs ?? 0)} vs ${ms(r.exporterRounds.at(-1)?.coalescing.concurrentWallMs ?? 0)}`,
  );
  if (s.soak) {
    const samples = r.exporterRounds.find((e) => e.soak)?.soak?.samples ?? [];
    lines.push(`- soak ${s.soak.seconds} s, ${s.soak.scrapes} scrapes, RSS (MB) at t (s): ${samples.map((x) => `${x.t}:${(x.rssKb / 1024).toFixed(0)}`).join(" ")}`);
  }
  lines.push("");
  return lines.join("\n");
}

export function renderMarkdown(resultsDir: string): string {
  const results: Partial<Record<string, ProfileResult>> = {};
  for (const name of PROFILE_ORDER) {
    const r = load<ProfileResult>(join(resultsDir, `${name}.json`));
    if (r) results[name] = r;
  }
  const classification = load<ClassificationResult>(join(resultsDir, "classification.json"));
  const others = otherVersions(resultsDir);
  const any = results["ci-host"] ?? results.node ?? results.smoke;
  const out: string[] = [];
  out.push("# Benchmarks");
  out.push("");
  out.push("<!-- Generated by `npm run bench` (bench/run.ts, bench/report.ts) from bench/results/*.json; edit those, not this. -->");
  out.push("");
  out.push(
    "Every number below comes from a real containerd (1.6, the system's, unless a section names another version) started by the test lab (test/lab) in a temporary directory, filled through its gRPC API by `bench/seed.ts`, and read by the exporter as shipped. " +
      "The **floor** (`bench/floor.ts`) issues only the gRPC reads a scrape needs (Namespaces/List, Version, Plugins, and per namespace Leases/List + one ListResources per lease, Content/List, ListStatuses, Snapshots/List per snapshotter + Usage for every active snapshot and, once, every committed one, Images/List, Containers/List), with the exporter's own client and the same concurrency (one limiter of 16), and nothing else. It is what no exporter on this API can beat on the same data.",
  );
  out.push("");
  if (any) {
    const m = any.machine;
    out.push("## Machine and command");
    out.push("");
    out.push(`- CPU: ${m.cpu}, ${m.cores} cores; RAM ${m.ramGiB} GiB; kernel ${m.kernel}`);
    out.push(`- Node ${m.node}; containerd ${m.containerd}`);
    out.push(`- Load average when the run started: ${m.loadavgAtStart.join(", ")} (a shared 2-core machine: other work ran alongside, so absolute numbers are noisy; floor and exporter alternate within one run to share the noise)`);
    const commands = [...new Set([...PROFILE_ORDER.map((n) => results[n]?.command), ...others.map((o) => o.command)].filter(Boolean))];
    out.push(`- Command: ${commands.map((c) => `\`${c}\``).join(", then ")}`);
    out.push(
      "- Exporter flags: `serve --containerd.address=<lab socket> --scrape.timeout=120s --containerd.timeout=120s --lease.stale-after=1s --ingest.idle-after=24h`. " +
        "The short stale-after is there because containerd stamps a lease's creation time itself: leases made a minute ago can only be stale under a short policy. Active leases stay active because they hold an ingest written within ingest.idle-after.",
    );
    out.push("");
  }
  const t = targets(results, classification, others);
  if (t.length > 0) {
    out.push("## Targets");
    out.push("");
    out.push("| target | goal | measured | |");
    out.push("|---|---|---|---|");
    for (const target of t) out.push(`| ${target.what} | ${target.goal} | ${target.measured} | ${target.met ? "met" : "**not met**"} |`);
    out.push("");
  }
  for (const name of PROFILE_ORDER) {
    const r = results[name];
    if (r) out.push(profileSection(r));
    for (const other of others) if (other.profile === name) out.push(profileSection(other));
  }
  if (classification) {
    out.push("## Classification micro-benchmark");
    out.push("");
    out.push(
      "`bench/classify-bench.ts`: synthetic inventories shaped like ci-host (4 namespaces; images with manifest, config, layers and unpacked chains; leases of every kind holding pulls, unpacks and ingests; gc.root and unreferenced data), classified and rendered in-process; median of 5 runs after a warm-up.",
    );
    out.push("");
    out.push("| resources | classify | render | µs / resource (classify) | µs / resource (classify + render) |");
    out.push("|---:|---:|---:|---:|---:|");
    for (const row of classification.rows) {
      out.push(`| ${row.resources} | ${ms(row.classifyMs)} | ${ms(row.renderMs)} | ${row.classifyUsPerResource.toFixed(2)} | ${row.totalUsPerResource.toFixed(2)} |`);
    }
    out.push("");
  }
  const notes = join(packageRoot(), "bench", "NOTES.md");
  if (existsSync(notes)) {
    out.push(readFileSync(notes, "utf8").trimEnd());
    out.push("");
  }
  return out.join("\n");
}
