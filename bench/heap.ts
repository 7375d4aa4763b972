// Where the exporter's bytes go, in-process against a seeded containerd: what loading the
// modules costs, what one read allocates (by function, sampled), what the inventory and its
// classification keep alive, and what ten concurrent scrapes add.
//
//   node --expose-gc dist/bench/heap.js --address SOCK [--top 25] [--sample] [--snapshot FILE]
//
// Prints a JSON report on stdout. --sample runs V8's sampling heap profiler over one warm scrape
// with objects collected by minor and major GCs included, so it counts short-lived garbage as
// well as what survives; --snapshot writes a heap snapshot with the inventory and its
// classification alive (open it in Chrome DevTools).
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { memoryUsage } from "node:process";
import { parseArgs } from "node:util";
import { getHeapSnapshot, getHeapSpaceStatistics, getHeapStatistics } from "node:v8";

interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}

const MB = 1024 * 1024;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/** After two full GCs: what is live, what V8 keeps committed (per space), and the process' RSS. */
function heapMb(): Record<string, number | Record<string, number>> {
  gc();
  gc();
  const m = memoryUsage();
  const spaces: Record<string, number> = {};
  for (const s of getHeapSpaceStatistics()) spaces[s.space_name.replace(/_space$/, "")] = s.physical_space_size / MB;
  return {
    rssMb: m.rss / MB,
    heapUsedMb: m.heapUsed / MB,
    heapCommittedMb: getHeapStatistics().total_physical_size / MB,
    externalMb: (m.external + m.arrayBuffers) / MB,
    committedBySpaceMb: spaces,
  };
}

/** Self bytes of every sampled allocation site, summed by function and file (line dropped). */
function bySite(root: SampleNode): Map<string, number> {
  const out = new Map<string, number>();
  const visit = (n: SampleNode) => {
    const file = n.callFrame.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/(dist|src)\//, "$1/");
    const key = `${n.callFrame.functionName || "(anonymous)"} ${file}`;
    if (n.selfSize > 0) out.set(key, (out.get(key) ?? 0) + n.selfSize);
    for (const c of n.children) visit(c);
  };
  visit(root);
  return out;
}

/** The same, summed by package (node_modules/<pkg>) or first-party file. */
function byPackage(sites: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [site, bytes] of sites) {
    const file = site.slice(site.indexOf(" ") + 1);
    const pkg = /^(@[^/]+\/[^/]+|[^/]+)\//.exec(file)?.[1] ?? (file || "(native)");
    const key = file.startsWith("dist/") || file.startsWith("src/") ? file : pkg;
    out.set(key, (out.get(key) ?? 0) + bytes);
  }
  return out;
}

const top = (m: Map<string, number>, n: number) =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => ({ site: k, mb: Math.round((v / MB) * 10) / 10 }));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      address: { type: "string" },
      top: { type: "string", default: "25" },
      sample: { type: "boolean", default: false },
      snapshot: { type: "string" },
    },
  });
  if (!values.address) throw new Error("--address is required");
  const report: Record<string, unknown> = {};
  report.bare = heapMb();
  // What `serve` loads before it answers anything.
  const [{ ContainerdClient }, { InventoryReader }, { InventorySource }, { classify }, { ExporterMetrics }, { pino }] =
    await Promise.all([
      import("../src/containerd/client.js"),
      import("../src/inventory/read.js"),
      import("../src/inventory/source.js"),
      import("../src/inventory/classify.js"),
      import("../src/metrics/exporter-metrics.js"),
      import("pino"),
      import("fastify"),
    ]);
  report.modulesLoaded = heapMb();
  const policy = { leaseStaleAfterMs: 1000, ingestIdleAfterMs: 24 * 3600_000 };
  const client = new ContainerdClient({ address: values.address, callTimeoutMs: 120_000 });
  report.clientCreated = heapMb();
  const reader = new InventoryReader(client);
  const metrics = new ExporterMetrics();
  const deadline = () => Date.now() + 300_000;
  try {
    let inventory = await reader.read(deadline());
    report.afterColdRead = heapMb();
    inventory = undefined as never;
    report.afterColdReadReleased = heapMb();

    let session: Session | undefined;
    if (values.sample) {
      session = new Session();
      session.connect();
      await session.post("HeapProfiler.enable");
      await session.post("HeapProfiler.startSampling", {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    }
    const t0 = performance.now();
    inventory = await reader.read(deadline());
    const t1 = performance.now();
    let readProfile: SampleNode | undefined;
    if (session) {
      readProfile = ((await session.post("HeapProfiler.stopSampling")) as { profile: { head: SampleNode } }).profile.head;
    }
    report.warmReadMs = t1 - t0;
    report.afterWarmRead = heapMb();
    const objects = inventory.namespaces.reduce(
      (n, ns) => n + ns.content.length + ns.snapshots.length + ns.leases.length + ns.ingests.length + ns.images.length + ns.containers.length,
      0,
    );
    report.objects = objects;
    let classified = classify(inventory, policy, Date.now() / 1000);
    report.afterClassify = heapMb();
    if (values.snapshot) {
      const chunks: Buffer[] = [];
      for await (const chunk of getHeapSnapshot()) chunks.push(chunk as Buffer);
      writeFileSync(values.snapshot, Buffer.concat(chunks));
    }
    const { body } = await metrics.render({ classified, exporterVersion: "heap", leaseDetailLimit: 10 }, false);
    report.bodyKb = Buffer.byteLength(body) / 1024;
    classified = undefined as never;
    inventory = undefined as never;
    report.afterReleased = heapMb();
    if (readProfile) {
      const sites = bySite(readProfile);
      const total = [...sites.values()].reduce((a, b) => a + b, 0);
      report.warmReadAllocatedMb = total / MB;
      report.warmReadAllocatedByPackage = top(byPackage(sites), Number(values.top));
      report.warmReadAllocatedBySite = top(sites, Number(values.top));
    }
    // Ten concurrent scrapes as /metrics serves them: one shared read, one shared classification.
    const source = new InventorySource(reader, policy, pino({ level: "silent" }) as never);
    let peakHeap = 0;
    const timer = setInterval(() => (peakHeap = Math.max(peakHeap, memoryUsage().heapUsed)), 5);
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const c = await source.classified(deadline());
        await metrics.render({ classified: c, exporterVersion: "heap", leaseDetailLimit: 10 }, false);
      }),
    );
    clearInterval(timer);
    report.concurrent10PeakHeapUsedMb = peakHeap / MB;
    report.end = heapMb();
    report.peakRssMb = Number(/VmHWM:\s+(\d+)/.exec(await import("node:fs").then((fs) => fs.readFileSync("/proc/self/status", "utf8")))?.[1]) / 1024;
  } finally {
    client.close();
  }
  process.stdout.write(`${JSON.stringify(report, (_k, v: unknown) => (typeof v === "number" ? Math.round(v * 10) / 10 : v), 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
