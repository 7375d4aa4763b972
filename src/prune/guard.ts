import type { ContainerdClient } from "../containerd/client.js";
import type { ClassifiedInventory } from "../inventory/classify.js";
import type { IngestCandidate, LeaseCandidate } from "./plan.js";

/**
 * The state of a candidate that would change if an operation were still
 * using it: its ingests' offsets, the usage of the active snapshots it holds
 * (an unpack in progress), and the list of what it holds.
 */
type Fingerprints = Map<string, string>;

const leaseKey = (c: { namespace: string; id: string }) => `lease\u0000${c.namespace}\u0000${c.id}`;
const ingestKey = (c: { namespace: string; ref: string }) => `ingest\u0000${c.namespace}\u0000${c.ref}`;

interface Observed {
  ingests: Map<string, { offset: number; updatedAt: number }>;
  resources: Map<string, string>;
  usage: Map<string, number>;
}

function fingerprints(leases: LeaseCandidate[], ingests: IngestCandidate[], observed: Observed): Fingerprints {
  const result: Fingerprints = new Map();
  const ingestText = (ns: string, ref: string) => JSON.stringify(observed.ingests.get(`${ns}\u0000${ref}`) ?? null);
  for (const lease of leases) {
    const resources = observed.resources.get(`${lease.namespace}\u0000${lease.id}`) ?? "[]";
    const parts = (JSON.parse(resources) as { type: string; id: string }[]).map((r) =>
      r.type === "ingests"
        ? ingestText(lease.namespace, r.id)
        : JSON.stringify(observed.usage.get(`${lease.namespace}\u0000${r.type}\u0000${r.id}`) ?? null),
    );
    result.set(leaseKey(lease), resources + parts.join(","));
  }
  for (const ingest of ingests) result.set(ingestKey(ingest), ingestText(ingest.namespace, ingest.ref));
  return result;
}

function sortedResources(resources: { type: string; id: string }[]): string {
  return JSON.stringify([...resources].sort((a, b) => (a.type + a.id).localeCompare(b.type + b.id)));
}

/** What the classified inventory already saw: the "before" picture, at no extra cost. */
function observedIn(classified: ClassifiedInventory): Observed {
  const observed: Observed = { ingests: new Map(), resources: new Map(), usage: new Map() };
  for (const ns of classified.namespaces) {
    for (const i of ns.ingests) observed.ingests.set(`${ns.name}\u0000${i.ref}`, { offset: i.offset, updatedAt: i.updatedAt });
    for (const l of ns.leases) observed.resources.set(`${ns.name}\u0000${l.id}`, sortedResources(l.resources));
    for (const s of ns.snapshots) {
      if (s.kind === "active") observed.usage.set(`${ns.name}\u0000snapshots/${s.snapshotter}\u0000${s.name}`, s.usage?.size ?? -1);
    }
  }
  return observed;
}

/** The "after" picture: only the calls needed for the candidates. */
async function observeNow(
  client: ContainerdClient,
  classified: ClassifiedInventory,
  leases: LeaseCandidate[],
  ingests: IngestCandidate[],
  deadline: number,
): Promise<Observed> {
  const observed: Observed = { ingests: new Map(), resources: new Map(), usage: new Map() };
  const namespaces = new Set([...leases.map((l) => l.namespace), ...ingests.map((i) => i.namespace)]);
  const active = new Set(
    classified.namespaces.flatMap((ns) =>
      ns.snapshots.filter((s) => s.kind === "active").map((s) => `${ns.name}\u0000snapshots/${s.snapshotter}\u0000${s.name}`),
    ),
  );
  await Promise.all([
    ...[...namespaces].map(async (ns) => {
      for (const i of await client.listIngests(ns, { deadline })) {
        observed.ingests.set(`${ns}\u0000${i.ref}`, { offset: i.offset, updatedAt: i.updatedAt });
      }
    }),
    ...leases.map(async (lease) => {
      const resources = await client.listLeaseResources(lease.namespace, lease.id, { deadline });
      observed.resources.set(`${lease.namespace}\u0000${lease.id}`, sortedResources(resources));
      await Promise.all(
        resources.map(async (r) => {
          const key = `${lease.namespace}\u0000${r.type}\u0000${r.id}`;
          if (!active.has(key)) return;
          const snapshotter = r.type.slice("snapshots/".length);
          const usage = await client.snapshotUsage(lease.namespace, snapshotter, r.id, { deadline }).catch(() => null);
          observed.usage.set(key, usage?.size ?? -1);
        }),
      );
    }),
  ]);
  return observed;
}

export interface GuardResult {
  movedLeases: Set<string>;
  movedIngests: Set<string>;
}

/**
 * Waits out the confirmation window, then looks again: any candidate whose
 * downloads or unpacks moved belongs to an operation still running and is
 * left alone. This is what keeps a prune from killing a slow pull.
 */
export async function confirmIdle(
  client: ContainerdClient,
  classified: ClassifiedInventory,
  leases: LeaseCandidate[],
  ingests: IngestCandidate[],
  windowMs: number,
  signal: AbortSignal | undefined,
): Promise<GuardResult> {
  const before = fingerprints(leases, ingests, observedIn(classified));
  const wait = classified.inventory.readAt * 1000 + windowMs - Date.now();
  if (wait > 0) await sleep(wait, signal);
  const now = await observeNow(client, classified, leases, ingests, Date.now() + 30_000);
  const after = fingerprints(leases, ingests, now);
  const moved = (key: string) => before.get(key) !== after.get(key);
  return {
    movedLeases: new Set(leases.map(leaseKey).filter(moved)),
    movedIngests: new Set(ingests.map(ingestKey).filter(moved)),
  };
}

export { ingestKey, leaseKey };

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
