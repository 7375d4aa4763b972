import type { ContainerdClient } from "../containerd/client.js";
import { ifFound } from "../containerd/errors.js";
import type { LeaseResource } from "../containerd/types.js";
import type { ClassifiedInventory } from "../inventory/classify.js";
import type { IngestCandidate, LeaseCandidate } from "./plan.js";

/**
 * What would change if an operation were still using a candidate: its
 * ingests' offsets and write times, the usage of the active snapshots it holds
 * (an unpack writing into its extract snapshot), and the list of what it holds.
 */
interface Observed {
  /** By namespace + ref; an ingest that is not here is gone. */
  ingests: Map<string, string>;
  /** By namespace + lease id: its resources, sorted; a lease that is not here is gone. */
  resources: Map<string, LeaseResource[]>;
  /** By namespace + resource type + id, for active snapshots. */
  usage: Map<string, number>;
  /** By namespace + lease id: creation time and labels, so that a lease re-created under the same id is not taken for the old one. */
  identity: Map<string, string>;
}

const key = (...parts: string[]) => parts.join("\u0000");
/** Keys of the guard's verdicts: a lease and an ingest may share a name. */
export const leaseKey = (c: { namespace: string; id: string }) => key("lease", c.namespace, c.id);
export const ingestKey = (c: { namespace: string; ref: string }) => key("ingest", c.namespace, c.ref);

const ingestState = (i: { offset: number; updatedAt: number }) => `${i.offset}@${i.updatedAt}`;
const leaseIdentity = (l: { createdAt: number; labels: Record<string, string> }) =>
  JSON.stringify([l.createdAt, Object.entries(l.labels).sort(([a], [b]) => a.localeCompare(b))]);

function sorted(resources: LeaseResource[]): LeaseResource[] {
  return [...resources].sort((a, b) => key(a.type, a.id).localeCompare(key(b.type, b.id)));
}

function fingerprint(lease: LeaseCandidate, observed: Observed): string | undefined {
  const resources = observed.resources.get(key(lease.namespace, lease.id));
  const identity = observed.identity.get(key(lease.namespace, lease.id));
  if (resources === undefined || identity === undefined) return undefined;
  return JSON.stringify([
    identity,
    ...resources.map((r) => [
      r.type,
      r.id,
      r.type === "ingests"
        ? observed.ingests.get(key(lease.namespace, r.id))
        : observed.usage.get(key(lease.namespace, r.type, r.id)),
    ]),
  ]);
}

/** The "before" picture is what the classified inventory already saw, at no extra cost. */
function observedIn(classified: ClassifiedInventory): Observed {
  const observed: Observed = { ingests: new Map(), resources: new Map(), usage: new Map(), identity: new Map() };
  for (const ns of classified.namespaces) {
    for (const i of ns.ingests) observed.ingests.set(key(ns.name, i.ref), ingestState(i));
    for (const l of ns.leases) {
      observed.resources.set(key(ns.name, l.id), sorted(l.resources));
      observed.identity.set(key(ns.name, l.id), leaseIdentity(l));
    }
    for (const s of ns.snapshots) {
      if (s.kind === "active") observed.usage.set(key(ns.name, `snapshots/${s.snapshotter}`, s.name), s.usage?.size ?? -1);
    }
  }
  return observed;
}

/** The "after" picture: only the calls the candidates need. */
async function observeNow(
  client: ContainerdClient,
  before: Observed,
  leases: LeaseCandidate[],
  ingests: IngestCandidate[],
  deadline: number,
): Promise<Observed> {
  const observed: Observed = { ingests: new Map(), resources: new Map(), usage: new Map(), identity: new Map() };
  const namespaces = new Set([...leases.map((l) => l.namespace), ...ingests.map((i) => i.namespace)]);
  const readIngests = [...namespaces].map(async (ns) => {
    for (const i of await client.listIngests(ns, { deadline })) observed.ingests.set(key(ns, i.ref), ingestState(i));
  });
  const leaseNamespaces = new Set(leases.map((l) => l.namespace));
  const readIdentities = (ns: string) =>
    client.listLeases(ns, { deadline }).then((listed) => {
      for (const l of listed) observed.identity.set(key(ns, l.id), leaseIdentity(l));
    });
  const readLeases = leases.map(async (lease) => {
    const resources = await ifFound(client.listLeaseResources(lease.namespace, lease.id, { deadline }));
    if (resources === undefined) return;
    observed.resources.set(key(lease.namespace, lease.id), sorted(resources));
    const active = resources.filter((r) => before.usage.has(key(lease.namespace, r.type, r.id)));
    await Promise.all(
      active.map(async (r) => {
        const snapshotter = r.type.slice("snapshots/".length);
        const usage = await ifFound(client.snapshotUsage(lease.namespace, snapshotter, r.id, { deadline }));
        observed.usage.set(key(lease.namespace, r.type, r.id), usage?.size ?? -1);
      }),
    );
  });
  // Identities are listed after the resources: a lease replaced between the two reads still differs.
  await Promise.all([...readIngests, ...readLeases]);
  await Promise.all([...leaseNamespaces].map(readIdentities));
  return observed;
}

export interface GuardResult {
  /** Candidates that changed during the window: an operation is still using them. */
  moved: Set<string>;
  /** Candidates that disappeared during the window (a pull finished, someone else pruned). */
  gone: Set<string>;
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
  const before = observedIn(classified);
  const wait = classified.inventory.readAt * 1000 + windowMs - Date.now();
  if (wait > 0) await sleep(wait, signal);
  const after = await observeNow(client, before, leases, ingests, Date.now() + 30_000);
  const result: GuardResult = { moved: new Set(), gone: new Set() };
  for (const lease of leases) {
    const now = fingerprint(lease, after);
    const id = key(lease.namespace, lease.id);
    // Re-created under the same id (other creation time or labels): the lease the plan chose is gone.
    if (now === undefined || after.identity.get(id) !== before.identity.get(id)) result.gone.add(leaseKey(lease));
    else if (now !== fingerprint(lease, before)) result.moved.add(leaseKey(lease));
  }
  for (const ingest of ingests) {
    const now = after.ingests.get(key(ingest.namespace, ingest.ref));
    if (now === undefined) result.gone.add(ingestKey(ingest));
    else if (now !== before.ingests.get(key(ingest.namespace, ingest.ref))) result.moved.add(ingestKey(ingest));
  }
  return result;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
