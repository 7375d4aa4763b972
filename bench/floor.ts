// The floor: only the gRPC reads a scrape needs, with the exporter's own client and the same
// concurrency (one limiter of 16 shared by the per-lease ListResources and per-snapshot Usage
// calls, namespaces and collectors in parallel, committed snapshots measured once), and nothing
// else: no inventory, no classification, no rendering. What no exporter built on this API can
// beat on the same data.
//
//   node --import tsx bench/floor.ts --address SOCK [--passes 25] [--containerd-pid PID]
//
// prints one JSON line: the first pass (cold: fresh process, empty usage cache), then `passes`
// warm ones, the process' peak RSS and, with --containerd-pid, containerd's CPU time over the
// warm passes.
import { parseArgs } from "node:util";
import { ContainerdClient } from "../src/containerd/client.js";
import type { SnapshotRecord } from "../src/containerd/types.js";
import { createLimiter } from "../src/util/limit.js";
import { cpuMs, peakRssKb } from "./proc.js";

const SNAPSHOTTER_PLUGIN = "io.containerd.snapshotter.v1";

export interface FloorPass {
  ms: number;
  calls: Record<string, number>;
  /** Objects read, as a sanity check that the pass saw the data. */
  objects: number;
}

/** Measured committed snapshots: "namespace\0snapshotter" → name → creation time. */
export type Measured = Map<string, Map<string, number>>;

/** Reads what a scrape reads. `measured` remembers committed snapshots across passes. */
export async function floorPass(client: ContainerdClient, measured: Measured, concurrency = 16): Promise<FloorPass> {
  const before = new Map(client.callCounts);
  const start = performance.now();
  const deadline = Date.now() + 120_000;
  const options = { deadline };
  const limit = createLimiter(concurrency);
  let objects = 0;
  const [names, , plugins] = await Promise.all([
    client.listNamespaces(options),
    client.version(options),
    client.plugins([`type==${SNAPSHOTTER_PLUGIN}`], options),
  ]);
  const snapshotters = plugins.filter((p) => p.initError === undefined).map((p) => p.id);
  await Promise.all(
    names.map((ns) =>
      Promise.all([
        client.listLeases(ns, options).then((leases) =>
          Promise.all(
            leases.map((l) =>
              limit(() => client.listLeaseResources(ns, l.id, options)).then((r) => (objects += 1 + r.length)),
            ),
          ),
        ),
        (async () => {
          for await (const page of client.listContentPages(ns, options)) objects += page.length;
        })(),
        client.listIngests(ns, options).then((i) => (objects += i.length)),
        Promise.all(
          snapshotters.map(async (snapshotter) => {
            const infos: SnapshotRecord[] = [];
            for await (const page of client.listSnapshotPages(ns, snapshotter, options)) for (const info of page) infos.push(info);
            objects += infos.length;
            const pending: Promise<void>[] = [];
            let byName = measured.get(`${ns}\u0000${snapshotter}`);
            if (!byName) measured.set(`${ns}\u0000${snapshotter}`, (byName = new Map()));
            const seen = byName;
            for (const info of infos) {
              if (info.kind === "committed" && seen.get(info.name) === info.createdAt) continue;
              pending.push(
                limit(() => client.snapshotUsage(ns, snapshotter, info.name, options)).then(() => {
                  if (info.kind === "committed") seen.set(info.name, info.createdAt);
                }),
              );
            }
            await Promise.all(pending);
          }),
        ),
        client.listImages(ns, options).then((i) => (objects += i.length)),
        client.listContainers(ns, options).then((c) => (objects += c.length)),
      ]),
    ),
  );
  const ms = performance.now() - start;
  const calls: Record<string, number> = {};
  for (const [call, n] of client.callCounts) {
    const d = n - (before.get(call) ?? 0);
    if (d > 0) calls[call] = d;
  }
  return { ms, calls, objects };
}

export interface FloorRun {
  coldMs: number;
  warmMs: number[];
  coldCalls: Record<string, number>;
  warmCalls: Record<string, number>;
  objects: number;
  peakRssKb: number;
  /** containerd CPU ms per warm pass, when its pid was given. */
  containerdCpuMsPerPass?: number;
  /** This process' CPU ms per warm pass. */
  selfCpuMsPerPass: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      address: { type: "string" },
      passes: { type: "string", default: "25" },
      "containerd-pid": { type: "string" },
    },
  });
  if (!values.address) throw new Error("--address is required");
  const passes = Number(values.passes);
  const containerdPid = values["containerd-pid"] ? Number(values["containerd-pid"]) : undefined;
  const client = new ContainerdClient({ address: values.address, callTimeoutMs: 120_000 });
  const measured: Measured = new Map();
  try {
    const cold = await floorPass(client, measured);
    const warmMs: number[] = [];
    let warmCalls: Record<string, number> = {};
    const cpu0 = containerdPid ? cpuMs(containerdPid) : 0;
    const self0 = process.cpuUsage();
    for (let i = 0; i < passes; i++) {
      const pass = await floorPass(client, measured);
      warmMs.push(pass.ms);
      warmCalls = pass.calls;
    }
    const self = process.cpuUsage(self0);
    const result: FloorRun = {
      coldMs: cold.ms,
      warmMs,
      coldCalls: cold.calls,
      warmCalls,
      objects: cold.objects,
      peakRssKb: peakRssKb(process.pid),
      selfCpuMsPerPass: (self.user + self.system) / 1000 / passes,
      ...(containerdPid ? { containerdCpuMsPerPass: (cpuMs(containerdPid) - cpu0) / passes } : {}),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    client.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
