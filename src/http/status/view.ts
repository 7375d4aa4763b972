import type { ClassifiedInventory, ClassifiedLease, ClassifiedNamespace } from "../../inventory/classify.js";
import { STORE_RESOURCES, type StoreResource } from "../../inventory/states.js";
import { stuckLeases } from "../../inventory/stuck.js";
import type { PruneRecord } from "../../metrics/exporter-metrics.js";

const DISTRIBUTION_SOURCE = "containerd.io/distribution.source.";
/** Rows per table: the page stays readable on a node with thousands of leases. */
export const ROW_LIMIT = 50;

export interface StuckLeaseRow {
  namespace: string;
  id: string;
  /** Who made it, as the owner rules tell (src/inventory/owners). */
  owner: string;
  state: string;
  createdAt: number;
  expiresAt: number | null;
  heldBytes: number;
  /** `registry/repository` from the distribution-source labels of the blobs it holds. */
  repositories: string[];
}

export interface IngestRow {
  namespace: string;
  ref: string;
  offset: number;
  total: number;
  updatedAt: number;
  state: string;
  leases: string[];
}

export interface StatusView {
  now: number;
  exporter: { version: string; revision: string };
  containerd: { address: string; up: boolean; version?: string; revision?: string; reason?: string };
  totals: { resource: StoreResource; store: number; reclaimable: number }[];
  /** Namespaces whose read failed or ran out of the budget, and the collectors that failed. */
  incomplete: { namespaces: string[]; collectors: { name: string; errors: string[] }[] };
  stuckLeases: StuckLeaseRow[];
  stuckLeasesTotal: number;
  ingests: IngestRow[];
  ingestsTotal: number;
  lastPrune: PruneRecord | undefined;
  admin: { enabled: boolean; address: string };
  schedule: { intervalMs: number; minReclaimableBytes: number } | undefined;
  policy: { leaseStaleAfterMs: number; ingestIdleAfterMs: number };
  links: { metrics: string; inventory: string; health: string; runbook: string };
}

export interface StatusContext {
  now: number;
  version: string;
  revision: string;
  containerdAddress: string;
  lastPrune: PruneRecord | undefined;
  admin: { enabled: boolean; address: string };
  schedule: StatusView["schedule"];
  links: StatusView["links"];
}

/** What the blobs a lease lists say they were pulled from. */
function repositoriesOf(lease: ClassifiedLease, labelsByDigest: Map<string, Record<string, string>>): string[] {
  const found = new Set<string>();
  for (const resource of lease.resources) {
    if (resource.type !== "content") continue;
    const labels = labelsByDigest.get(resource.id);
    if (!labels) continue;
    for (const [key, value] of Object.entries(labels)) {
      if (!key.startsWith(DISTRIBUTION_SOURCE)) continue;
      const registry = key.slice(DISTRIBUTION_SOURCE.length);
      for (const repo of value.split(",")) if (repo !== "") found.add(`${registry}/${repo}`);
    }
  }
  return [...found].sort();
}

/** The page's rows of the first `limit` stuck leases (their repositories take a look through each namespace's blobs). */
function stuckLeaseRows(classified: ClassifiedInventory, limit: number): { rows: StuckLeaseRow[]; total: number } {
  const stuck = stuckLeases(classified);
  const labelsByNamespace = new Map<ClassifiedNamespace, Map<string, Record<string, string>>>();
  const labelsIn = (ns: ClassifiedNamespace) => {
    let labels = labelsByNamespace.get(ns);
    if (!labels) labelsByNamespace.set(ns, (labels = new Map(ns.content.map((b) => [b.digest, b.labels]))));
    return labels;
  };
  const rows = stuck.slice(0, limit).map(({ namespace, lease: l }) => ({
    namespace: namespace.name,
    id: l.id,
    owner: l.owner,
    state: l.state,
    createdAt: l.createdAt,
    expiresAt: l.expiresAt,
    heldBytes: l.heldBytes,
    repositories: repositoriesOf(l, labelsIn(namespace)),
  }));
  return { rows, total: stuck.length };
}

function ingests(namespaces: ClassifiedNamespace[]): IngestRow[] {
  return namespaces
    .flatMap((ns) =>
      ns.ingests.map((i) => ({
        namespace: ns.name,
        ref: i.ref,
        offset: i.offset,
        total: i.total,
        updatedAt: i.updatedAt,
        state: i.state,
        leases: i.leases,
      })),
    )
    .sort((a, b) => a.updatedAt - b.updatedAt);
}

/** Everything the page shows, from the same classified read /metrics renders. */
export function statusView(classified: ClassifiedInventory, ctx: StatusContext): StatusView {
  const { inventory } = classified;
  const complete = classified.namespaces.filter((ns) => ns.complete);
  const stuck = stuckLeaseRows(classified, ROW_LIMIT);
  const waiting = ingests(complete);
  const reason = inventory.up ? undefined : inventory.collectors.find((c) => c.collector === "namespaces")?.errors[0];
  return {
    now: ctx.now,
    exporter: { version: ctx.version, revision: ctx.revision },
    containerd: {
      address: ctx.containerdAddress,
      up: inventory.up,
      ...(inventory.containerd ? { version: inventory.containerd.version, revision: inventory.containerd.revision } : {}),
      ...(reason !== undefined ? { reason } : {}),
    },
    totals: STORE_RESOURCES.map((resource) => ({
      resource,
      store: classified.store[resource],
      reclaimable: classified.reclaimable[resource],
    })),
    incomplete: {
      namespaces: classified.namespaces.filter((ns) => !ns.complete).map((ns) => ns.name),
      collectors: inventory.up
        ? inventory.collectors.filter((c) => !c.success).map((c) => ({ name: c.collector, errors: c.errors }))
        : [],
    },
    stuckLeases: stuck.rows,
    stuckLeasesTotal: stuck.total,
    ingests: waiting.slice(0, ROW_LIMIT),
    ingestsTotal: waiting.length,
    lastPrune: ctx.lastPrune,
    admin: ctx.admin,
    schedule: ctx.schedule,
    policy: classified.policy,
    links: ctx.links,
  };
}
