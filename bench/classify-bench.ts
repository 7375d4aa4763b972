// Classification (and rendering) on synthetic inventories of 10k..100k resources, to show that
// the time per resource stays roughly constant (linear growth).
//
//   node --import tsx bench/classify-bench.ts [--sizes 10000,20000,50000,100000]
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import type { ContentInfo, ImageInfo, IngestStatus, Labels, LeaseResource } from "../src/containerd/types.js";
import { classify } from "../src/inventory/classify.js";
import { DEFAULT_POLICY } from "../src/inventory/states.js";
import type { Inventory, LeaseEntry, NamespaceInventory, SnapshotEntry } from "../src/inventory/types.js";
import { ExporterMetrics } from "../src/metrics/exporter-metrics.js";
import { Rng } from "./prng.js";

const NOW = 1_750_000_000;

function digest(tag: string): string {
  return `sha256:${createHash("sha256").update(tag).digest("hex")}`;
}

function rfc3339(s: number): string {
  return new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * A namespace shaped like the ci-host profile: images (manifest, config, layers, unpacked
 * chain), leases holding pulls and unpacks (active, stale, expired, permanent, flat), ingests,
 * gc.root and unreferenced blobs. Returns it with its resource count.
 */
function syntheticNamespace(name: string, target: number, rng: Rng): { ns: NamespaceInventory; resources: number } {
  const content: ContentInfo[] = [];
  const snapshots: SnapshotEntry[] = [];
  const leases: LeaseEntry[] = [];
  const ingests: IngestStatus[] = [];
  const images: ImageInfo[] = [];
  let n = 0;
  const blob = (labels: Labels = {}): ContentInfo => {
    const b = { digest: digest(`${name}/${n++}`), size: rng.int(100, 1 << 20), createdAt: NOW - 7200, updatedAt: NOW - 7200, labels };
    content.push(b);
    return b;
  };
  const chain = (length: number, kindOfLast: "committed" | "active", parent = ""): SnapshotEntry[] => {
    const out: SnapshotEntry[] = [];
    for (let i = 0; i < length; i++) {
      const s: SnapshotEntry = {
        snapshotter: "overlayfs",
        name: i === length - 1 && kindOfLast === "active" ? `extract-${n++} x` : digest(`${name}/snap/${n++}`),
        parent,
        kind: i === length - 1 ? kindOfLast : "committed",
        createdAt: NOW - 7200,
        updatedAt: NOW - 7200,
        labels: {},
        usage: { size: rng.int(0, 1 << 24), inodes: rng.int(1, 1000) },
      };
      out.push(s);
      snapshots.push(s);
      parent = s.name;
    }
    return out;
  };
  const pull = (layers: number): { manifest: ContentInfo; all: ContentInfo[] } => {
    const ls = Array.from({ length: layers }, () => blob());
    const top = chain(layers, "committed");
    const config = blob({ "containerd.io/gc.ref.snapshot.overlayfs": top.at(-1)?.name ?? "" });
    const labels: Labels = { "containerd.io/gc.ref.content.config": config.digest };
    ls.forEach((l, i) => (labels[`containerd.io/gc.ref.content.l.${i}`] = l.digest));
    const manifest = blob(labels);
    return { manifest, all: [...ls, config, manifest] };
  };
  const resources = () => content.length + snapshots.length + leases.length + ingests.length + images.length;
  while (resources() < target) {
    const roll = rng.next();
    if (roll < 0.35) {
      const { manifest } = pull(rng.int(1, 6));
      images.push({
        name: `img-${n++}`,
        target: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: manifest.digest, size: 1000 },
        labels: {},
        createdAt: NOW - 7200,
        updatedAt: NOW - 7200,
      });
    } else if (roll < 0.95) {
      const kind = rng.pick(["active", "stale", "expired", "permanent", "flat"] as const);
      const held: LeaseResource[] = [];
      const { all } = pull(rng.int(1, 4));
      for (const b of all) held.push({ type: "content", id: b.digest });
      if (kind !== "active") for (const s of chain(rng.int(1, 4), "active")) held.push({ type: "snapshots/overlayfs", id: s.name });
      if (kind === "active" || rng.chance(0.2)) {
        const ref = `layer-${digest(`${name}/ingest/${n++}`)}`;
        ingests.push({ ref, offset: rng.int(1, 1 << 20), total: 1 << 21, expected: "", startedAt: NOW - 60, updatedAt: kind === "active" ? NOW - 5 : NOW - 7200 });
        held.push({ type: "ingests", id: ref });
      }
      const labels: Labels = {};
      if (kind === "active" || kind === "stale") labels["containerd.io/gc.expire"] = rfc3339(NOW + 86400);
      if (kind === "expired") labels["containerd.io/gc.expire"] = rfc3339(NOW - 60);
      if (kind === "flat") labels["containerd.io/gc.flat"] = "";
      leases.push({ id: `${n++}-lease`, createdAt: kind === "active" ? NOW - 10 : NOW - 7200, labels, resources: held });
    } else if (roll < 0.97) {
      blob({ "containerd.io/gc.root": "true" });
    } else {
      blob();
      chain(rng.int(1, 3), "committed");
    }
  }
  return {
    ns: { name, leases, content, ingests, snapshots, images, containers: [], sandboxes: [], failed: [] },
    resources: resources(),
  };
}

export function syntheticInventory(size: number, seed = "classify-bench"): { inventory: Inventory; resources: number } {
  const rng = new Rng(`${seed}/${size}`);
  const weights = [0.4, 0.3, 0.15, 0.15];
  const parts = weights.map((w, i) => syntheticNamespace(`ns${i}`, Math.round(size * w), rng));
  return {
    inventory: {
      readAt: NOW,
      up: true,
      containerd: { version: "v1.6.20", revision: "bench" },
      snapshotters: ["overlayfs", "native"],
      namespaces: parts.map((p) => p.ns),
      collectors: [],
    },
    resources: parts.reduce((a, p) => a + p.resources, 0),
  };
}

export interface ClassifyRow {
  size: number;
  resources: number;
  classifyMs: number;
  renderMs: number;
  /** Microseconds per resource, classification alone and classification + rendering. */
  classifyUsPerResource: number;
  totalUsPerResource: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

export async function classificationBench(sizes: number[], runs = 5): Promise<ClassifyRow[]> {
  const metrics = new ExporterMetrics();
  const rows: ClassifyRow[] = [];
  // Warm the JIT on a mid-sized inventory so the first size is not charged for compilation.
  {
    const { inventory } = syntheticInventory(5000, "warmup");
    for (let i = 0; i < 3; i++) {
      const c = classify(inventory, DEFAULT_POLICY, NOW);
      await metrics.render({ classified: c, exporterVersion: "bench", leaseDetailLimit: 10 }, false);
    }
  }
  for (const size of sizes) {
    const { inventory, resources } = syntheticInventory(size);
    const classifyTimes: number[] = [];
    const renderTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const classified = classify(inventory, DEFAULT_POLICY, NOW);
      const t1 = performance.now();
      await metrics.render({ classified, exporterVersion: "bench", leaseDetailLimit: 10 }, false);
      const t2 = performance.now();
      classifyTimes.push(t1 - t0);
      renderTimes.push(t2 - t1);
    }
    const classifyMs = median(classifyTimes);
    const renderMs = median(renderTimes);
    rows.push({
      size,
      resources,
      classifyMs,
      renderMs,
      classifyUsPerResource: (classifyMs * 1000) / resources,
      totalUsPerResource: ((classifyMs + renderMs) * 1000) / resources,
    });
  }
  return rows;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { sizes: { type: "string", default: "10000,20000,50000,100000" } } });
  const rows = await classificationBench((values.sizes as string).split(",").map(Number));
  console.table(rows.map((r) => ({ ...r, classifyMs: r.classifyMs.toFixed(1), renderMs: r.renderMs.toFixed(1) })));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
