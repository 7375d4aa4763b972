// The seeder: fills a containerd through its gRPC API with a profile's objects (bench/plan.ts),
// reproducibly and with many calls in flight.
//
//   node --import tsx bench/seed.ts --profile node [--address /path/containerd.sock]
//
// Without --address it starts a lab (test/lab), seeds it, prints the socket and stays up until
// SIGINT/SIGTERM, for profiling by hand.
//
// containerd's garbage collector shapes the order of work. It runs after 100 metadata mutations
// or any deletion (gc scheduler defaults), so during seeding it runs often, and it removes
// anything no root reaches. Hence:
//  1. a per-namespace seeding lease protects every object from its creation until images,
//     containers, gc.root labels or its own lease reference it (objects of non-expiring leases
//     are created under that lease's `containerd-lease` header: same transaction);
//  2. leases meant to be found expired are created last, with a gc.expire a little ahead, and get
//     their resources with Leases/AddResource;
//  3. deleting the seeding leases with sync=true forces one full GC, which resets the mutation
//     count;
//  4. then, within the 100-mutation budget, objects nothing references and leases whose
//     gc.expire is already past; no later call mutates anything, so no GC runs again;
//  5. wait until the expiry of step 2 has passed.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ContainerdClient } from "../src/containerd/client.js";
import { createLimiter } from "../src/util/limit.js";
import { SeedClient } from "./grpc.js";
import {
  buildPlan,
  type BlobPlan,
  type Chain,
  type LeasePlan,
  type NamespacePlan,
  type Owner,
  type Plan,
  planCounts,
  type PlanCounts,
  type SnapshotPlan,
} from "./plan.js";
import { Rng } from "./prng.js";
import { type Profile, profileByName } from "./profiles.js";

export const SEED_LEASE = "bench-seed";
const SNAPSHOTTERS = ["overlayfs", "native"];

export interface PresentCounts {
  namespaces: number;
  images: number;
  blobs: number;
  snapshots: number;
  activeSnapshots: number;
  leases: number;
  ingests: number;
  containers: number;
}

export interface SeedResult {
  profile: Profile["name"];
  seconds: number;
  phases: Record<string, number>;
  calls: Record<string, number>;
  planned: PlanCounts;
  present: PresentCounts;
  /** Epoch ms when the "expired" leases expired. */
  expiredAt: number;
  warnings: string[];
}

export interface SeedOptions {
  log?: (message: string) => void;
}

function rfc3339(ms: number): string {
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function isAlreadyExists(error: unknown): boolean {
  return /already exists/i.test((error as Error).message);
}

/** The lease header for an object's owner. */
function leaseOf(owner: Owner): string | undefined {
  if (owner === "seed") return SEED_LEASE;
  if (owner === "none") return undefined;
  return owner.lease;
}

function writableDir(mounts: { type: string; source: string; options: string[] }[]): string | undefined {
  const mount = mounts[0];
  if (!mount) return undefined;
  const upper = mount.options.find((o) => o.startsWith("upperdir="));
  return upper ? upper.slice("upperdir=".length) : mount.source;
}

export async function seed(address: string, profile: Profile, options: SeedOptions = {}): Promise<SeedResult> {
  const log = options.log ?? (() => undefined);
  const started = performance.now();
  const phases: Record<string, number> = {};
  const warnings: string[] = [];
  const plan = buildPlan(profile);
  const planned = planCounts(plan);
  log(`plan ${profile.name}: ${JSON.stringify(planned)}`);
  const client = new SeedClient(address);
  const limit = createLimiter(profile.concurrency);
  let phaseStart = performance.now();
  const phase = (name: string) => {
    const now = performance.now();
    phases[name] = (now - phaseStart) / 1000;
    log(`  ${name}: ${phases[name]!.toFixed(1)}s`);
    phaseStart = now;
  };
  const each = <T>(items: readonly T[], fn: (item: T) => Promise<unknown>) =>
    Promise.all(items.map((item) => limit(() => fn(item))));
  const totalCalls = () => [...client.callCounts.values()].reduce((a, b) => a + b, 0);

  const blob = (b: BlobPlan) => {
    const lease = leaseOf(b.owner);
    return client
      .writeBlob(b.ns, `bench-${b.digest}`, b.data, b.digest, b.labels, lease ? { lease } : {})
      .catch((error: unknown) => {
        if (!isAlreadyExists(error)) throw error;
      });
  };
  const snapshot = async (s: SnapshotPlan) => {
    const lease = leaseOf(s.owner);
    const opts = lease ? { lease } : {};
    const mounts = await limit(() => client.prepare(s.ns, s.snapshotter, s.key, s.parent, s.name ? {} : s.labels, opts));
    if (s.name !== undefined) {
      await limit(() => client.commit(s.ns, s.snapshotter, s.name as string, s.key, s.labels, opts));
    } else if (s.files > 0) {
      const dir = writableDir(mounts);
      const rng = new Rng(`${s.ns}/${s.key}`);
      for (let i = 0; dir && i < s.files; i++) writeFileSync(join(dir, `bench-${i}.dat`), rng.bytes(rng.int(1024, 16384)));
    }
  };
  const chains = (list: Chain[]) =>
    Promise.all(
      list.map(async (chain) => {
        for (const s of chain) await snapshot(s);
      }),
    );
  const createLease = (l: LeasePlan, expireMs: (label: string) => number | undefined) => {
    const labels = { ...l.labels };
    const marker = labels["containerd.io/gc.expire"];
    if (marker !== undefined) {
      const ms = expireMs(marker);
      if (ms === undefined) throw new Error(`no expiry for ${marker}`);
      labels["containerd.io/gc.expire"] = rfc3339(ms);
    }
    return client.createLease(l.ns, l.id, labels);
  };
  const future = (l: LeasePlan) => (marker: string) =>
    marker === "FUTURE" ? Date.now() + (l.ns === "moby" ? 8 : 24) * 3600_000 : undefined;

  try {
    const nss = plan.namespaces;
    // 0-1. Seeding leases, then every lease that is not meant to expire.
    await each(nss, (ns) => client.createLease(ns.name, SEED_LEASE, { "bench/seeding": "true" }));
    const lasting = nss.flatMap((ns) => ns.leases.filter((l) => l.kind !== "expired"));
    await each(lasting, (l) => createLease(l, future(l)));
    phase("leases");

    // 2. Data: ingests and blobs alongside the snapshot chains, stage by stage.
    const callsBefore = totalCalls();
    const t2 = performance.now();
    await Promise.all([
      each(
        nss.flatMap((ns) => ns.ingests),
        (i) => client.writeIngest(i.ns, i.ref, i.data, i.total, i.expected),
      ),
      each(
        nss.flatMap((ns) => ns.blobs),
        blob,
      ),
      (async () => {
        for (const stage of [0, 1, 2] as const) await chains(nss.flatMap((ns) => ns.chains[stage]));
      })(),
    ]);
    phase("data");
    await each(
      nss.flatMap((ns) => ns.images),
      (i) => client.createImage(i.ns, i.name, i.target, i.labels),
    );
    await each(
      nss.flatMap((ns) => ns.containers),
      (c) => client.createContainer(c.ns, c),
    );
    await each(
      lasting.flatMap((l) => l.attach.map((r) => ({ l, r }))),
      ({ l, r }) => client.addResource(l.ns, l.id, r),
    );
    phase("images, containers, attachments");
    const rate = (totalCalls() - callsBefore) / ((performance.now() - t2) / 1000);

    // A first full GC: how long one takes at this size (for the expiry margin below).
    const gcStart = performance.now();
    await client.createLease(nss[0]!.name, "bench-gc-probe", {});
    await client.deleteLease(nss[0]!.name, "bench-gc-probe", true);
    const gcSeconds = (performance.now() - gcStart) / 1000;
    phase("gc probe");

    // 3. Leases that will be found expired.
    const expiring = nss.flatMap((ns) => ns.leases.filter((l) => l.kind === "expired"));
    const calls3 = expiring.reduce((a, l) => a + 1 + l.attach.length, 0);
    const minMargin = profile.name === "smoke" ? 2 : 8;
    const marginMs = 1000 * (minMargin + (2 * calls3) / Math.max(rate, 1) + 3 * gcSeconds);
    const expiredAt = Math.ceil((Date.now() + marginMs) / 1000) * 1000;
    await each(expiring, (l) => createLease(l, (m) => (m === "SOON" ? expiredAt : undefined)));
    await each(
      expiring.flatMap((l) => l.attach.map((r) => ({ l, r }))),
      ({ l, r }) => client.addResource(l.ns, l.id, r),
    );
    phase("expiring leases");

    // 4. One full GC: drops what the seeding leases alone held, resets the mutation count.
    for (const [i, ns] of nss.entries()) await client.deleteLease(ns.name, SEED_LEASE, i === nss.length - 1);
    phase("seed leases deleted (GC)");
    if (Date.now() >= expiredAt) {
      warnings.push(`the expiring leases expired (${new Date(expiredAt).toISOString()}) before the last GC: some of their data may be gone`);
    }

    // 5. After the last GC: leases already expired, data nothing references.
    await finalPhase(client, nss);
    phase("unreferenced and past-expired");

    // 6. Until the expiring leases have expired.
    const wait = expiredAt + 1000 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    phase("waiting for expiry");

    const present = await countPresent(address, plan);
    phase("verify");
    for (const key of ["images", "blobs", "snapshots", "activeSnapshots", "leases", "ingests", "containers"] as const) {
      if (present[key] !== planned[key]) warnings.push(`${key}: planned ${planned[key]}, present ${present[key]}`);
    }
    for (const w of warnings) log(`WARNING ${w}`);
    return {
      profile: profile.name,
      seconds: (performance.now() - started) / 1000,
      phases,
      calls: Object.fromEntries([...client.callCounts].sort()),
      planned,
      present,
      expiredAt,
      warnings,
    };
  } finally {
    client.close();
  }
}

/** Sequential and small: stays under containerd's 100-mutation GC trigger. */
async function finalPhase(client: SeedClient, nss: NamespacePlan[]): Promise<void> {
  const past = rfc3339(Date.now() - 3600_000);
  for (const ns of nss) {
    for (const l of ns.final.leases) await client.createLease(ns.name, l.id, { ...l.labels, "containerd.io/gc.expire": past });
    for (const b of ns.final.blobs) {
      const lease = leaseOf(b.owner);
      await client.writeBlob(ns.name, `bench-${b.digest}`, b.data, b.digest, b.labels, lease ? { lease } : {});
    }
    for (const chain of ns.final.snapshots) {
      for (const s of chain) {
        await client.prepare(ns.name, s.snapshotter, s.key, s.parent);
        if (s.name) await client.commit(ns.name, s.snapshotter, s.name, s.key, s.labels);
      }
    }
  }
}

/** What containerd holds now, counted with the exporter's own read client. */
export async function countPresent(address: string, plan: Plan): Promise<PresentCounts> {
  const client = new ContainerdClient({ address, callTimeoutMs: 120_000 });
  try {
    const counts: PresentCounts = { namespaces: 0, images: 0, blobs: 0, snapshots: 0, activeSnapshots: 0, leases: 0, ingests: 0, containers: 0 };
    const names = new Set(plan.namespaces.map((ns) => ns.name));
    for (const ns of await client.listNamespaces()) {
      if (!names.has(ns)) continue;
      counts.namespaces++;
      counts.images += (await client.listImages(ns)).length;
      for await (const _ of client.listContent(ns)) counts.blobs++;
      for (const snapshotter of SNAPSHOTTERS) {
        for await (const s of client.listSnapshots(ns, snapshotter)) {
          counts.snapshots++;
          if (s.kind === "active") counts.activeSnapshots++;
        }
      }
      counts.leases += (await client.listLeases(ns)).length;
      counts.ingests += (await client.listIngests(ns)).length;
      counts.containers += (await client.listContainers(ns)).length;
    }
    return counts;
  } finally {
    client.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { profile: { type: "string", default: "smoke" }, address: { type: "string" } } });
  const profile = profileByName(values.profile as string);
  const log = (m: string) => console.error(m);
  if (values.address) {
    console.log(JSON.stringify(await seed(values.address, profile, { log }), null, 2));
    return;
  }
  const { startLab } = await import("../test/lab/lab.js");
  const lab = await startLab();
  const stop = () => void lab.stop().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    console.log(JSON.stringify(await seed(lab.socket, profile, { log }), null, 2));
  } catch (error) {
    await lab.stop();
    throw error;
  }
  console.log(`containerd socket: ${lab.socket} (pid ${lab.containerd.pid}); SIGINT stops the lab`);
  setInterval(() => undefined, 1 << 30);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
