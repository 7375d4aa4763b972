import { randomBytes } from "node:crypto";
import type { FastifyBaseLogger } from "fastify";
import type { ContainerdClient } from "../containerd/client.js";
import { ContainerdDownError, ifFound } from "../containerd/errors.js";
import type { ByResource, ClassifiedInventory } from "../inventory/classify.js";
import type { InventorySource } from "../inventory/source.js";
import { LABEL, type Policy, STORE_RESOURCES } from "../inventory/states.js";
import type { ExporterMetrics, PruneTrigger } from "../metrics/exporter-metrics.js";
import { confirmIdle, ingestKey, leaseKey } from "./guard.js";
import { type IngestCandidate, type LeaseCandidate, planPrune, type SkipReason } from "./plan.js";

export interface PruneRequest {
  dryRun: boolean;
  namespaces?: string[];
  leases?: string[];
  abortIngests: boolean;
  policy: Policy;
  /** Who asked, for the audit log. */
  client: string;
  /** What started it, for the prune metrics' `trigger` label; http when absent. */
  trigger?: PruneTrigger;
}

/** A not-found lease named in the request has only its id. */
export type LeaseOutcome = Partial<LeaseCandidate> & { namespace: string; id: string; reason?: SkipReason };
export type IngestOutcome = IngestCandidate & { reason?: SkipReason };

export interface PruneReport {
  dryRun: boolean;
  startedAt: string;
  timings: { classifySeconds: number; confirmSeconds: number; deleteSeconds: number; totalSeconds: number };
  policy: { leaseStaleAfterSeconds: number; ingestIdleAfterSeconds: number };
  leases: { deleted: LeaseOutcome[]; skipped: LeaseOutcome[] };
  ingests: { aborted: IngestOutcome[]; skipped: IngestOutcome[] };
  skippedNamespaces: string[];
  gcForced: boolean;
  bytes: {
    /** Store bytes before, as measured. */
    before: ByResource;
    /** Store bytes after, measured again; absent on a dry run. */
    after?: ByResource;
    /** before − after; absent on a dry run. */
    reclaimed?: ByResource & { total: number };
    /** What the classification said a prune would free. */
    predicted: ByResource & { total: number };
  };
}

export class PruneBusyError extends Error {
  constructor() {
    super("a prune is already running; try again when it has finished");
  }
}

/** False when containerd says the object is already gone. */
async function stillThere(call: Promise<void>): Promise<boolean> {
  return (await ifFound(call.then(() => true))) === true;
}

function moveToSkipped<T extends { reason?: SkipReason }>(from: T[], to: T[], item: T): void {
  from.splice(from.indexOf(item), 1);
  to.push({ ...item, reason: "gone" });
}

const total = (bytes: ByResource) => STORE_RESOURCES.reduce((sum, r) => sum + bytes[r], 0);
const withTotal = (bytes: ByResource) => ({ ...bytes, total: total(bytes) });
const seconds = (from: number) => Math.round(performance.now() - from) / 1000;

/**
 * Gives back what the metrics call reclaimable: deletes stale and expired
 * leases and aborts stale ingests, after making sure none of them is still
 * moving, then lets containerd's GC remove what they held. One at a time.
 */
export class Pruner {
  private busy = false;
  private controller: AbortController | undefined;

  constructor(
    private readonly client: ContainerdClient,
    private readonly source: InventorySource,
    private readonly metrics: ExporterMetrics,
    private readonly log: FastifyBaseLogger,
    private readonly confirmWindowMs: number,
  ) {}

  get running(): boolean {
    return this.busy;
  }

  /** Stops a running prune before its next containerd call (on shutdown). */
  abort(): void {
    this.controller?.abort(new Error("the exporter is shutting down; the prune stopped before its next step"));
  }

  async run(request: PruneRequest): Promise<PruneReport> {
    if (this.busy) throw new PruneBusyError();
    this.busy = true;
    this.controller = new AbortController();
    try {
      const report = await this.prune(request, this.controller.signal);
      this.record(report, request.trigger ?? "http");
      return report;
    } catch (error) {
      const nothing = { reclaimedBytes: 0, leasesDeleted: 0, ingestsAborted: 0 };
      this.metrics.recordPrune({ trigger: request.trigger ?? "http", result: "failure", ...nothing, error: (error as Error).message });
      throw error;
    } finally {
      this.busy = false;
      this.controller = undefined;
    }
  }

  private async prune(request: PruneRequest, signal: AbortSignal | undefined): Promise<PruneReport> {
    const started = performance.now();
    const startedAt = new Date().toISOString();
    const classified = await this.freshClassification(request.policy);
    if (!classified.inventory.up) {
      const reason = classified.inventory.collectors.find((c) => c.collector === "namespaces")?.errors[0];
      throw new ContainerdDownError(`containerd did not answer; nothing was pruned${reason ? `: ${reason}` : ""}`);
    }
    const plan = planPrune(classified, request);
    const classifySeconds = seconds(started);

    const confirmStart = performance.now();
    const guard = await confirmIdle(this.client, classified, plan.leases, plan.ingests, this.confirmWindowMs, signal);
    const confirmSeconds = seconds(confirmStart);

    const verdict = (key: string): SkipReason | undefined =>
      guard.gone.has(key) ? "gone" : guard.moved.has(key) ? "in-flight" : undefined;
    const skippedLeases: LeaseOutcome[] = [...plan.skippedLeases];
    const leases = plan.leases.filter((lease) => {
      const reason = verdict(leaseKey(lease));
      if (reason) skippedLeases.push({ ...lease, reason });
      return reason === undefined;
    });
    // An ingest goes only with its leases: if one of them stays, so does the ingest.
    const kept = new Set(skippedLeases.map(leaseKey));
    const skippedIngests: IngestOutcome[] = [];
    const ingests = plan.ingests.filter((ingest) => {
      const holderKept = ingest.leases.some((id) => kept.has(leaseKey({ namespace: ingest.namespace, id })));
      const reason = verdict(ingestKey(ingest)) ?? (holderKept ? "lease-skipped" : undefined);
      if (reason) skippedIngests.push({ ...ingest, reason });
      return reason === undefined;
    });

    const report: PruneReport = {
      dryRun: request.dryRun,
      startedAt,
      timings: { classifySeconds, confirmSeconds, deleteSeconds: 0, totalSeconds: 0 },
      policy: {
        leaseStaleAfterSeconds: request.policy.leaseStaleAfterMs / 1000,
        ingestIdleAfterSeconds: request.policy.ingestIdleAfterMs / 1000,
      },
      leases: { deleted: leases, skipped: skippedLeases },
      ingests: { aborted: ingests, skipped: skippedIngests },
      skippedNamespaces: plan.skippedNamespaces,
      gcForced: false,
      bytes: { before: classified.store, predicted: withTotal(classified.reclaimable) },
    };
    if (!request.dryRun) {
      const deleteStart = performance.now();
      signal?.throwIfAborted();
      await this.apply(classified, report, request.client, signal);
      report.timings.deleteSeconds = seconds(deleteStart);
      const after = (await this.freshClassification(request.policy)).store;
      report.bytes.after = after;
      report.bytes.reclaimed = withTotal({
        content: classified.store.content - after.content,
        snapshot: classified.store.snapshot - after.snapshot,
        ingest: classified.store.ingest - after.ingest,
      });
    }
    report.timings.totalSeconds = seconds(started);
    return report;
  }

  private freshClassification(policy: Policy): Promise<ClassifiedInventory> {
    return this.source.classified(Date.now() + 60_000, policy, { fresh: true });
  }

  /**
   * Aborts first, then deletes leases, the last one synchronously so that the
   * GC it triggers has finished before the store is measured again. A lease
   * delete is atomic in containerd: stopping between two leaves nothing half done.
   */
  private async apply(
    classified: ClassifiedInventory,
    report: PruneReport,
    client: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    // Over copies: an object already gone moves from the report's done list to its skipped list.
    for (const ingest of [...report.ingests.aborted]) {
      signal?.throwIfAborted();
      if (!(await stillThere(this.client.abortIngest(ingest.namespace, ingest.ref)))) {
        moveToSkipped(report.ingests.aborted, report.ingests.skipped, ingest);
        continue;
      }
      this.log.info({ audit: "ingest-aborted", namespace: ingest.namespace, ref: ingest.ref, bytes: ingest.bytes, client }, "prune aborted an ingest");
    }
    const toDelete = [...report.leases.deleted];
    let collected = false;
    for (const [index, lease] of toDelete.entries()) {
      signal?.throwIfAborted();
      const sync = index === toDelete.length - 1;
      if (!(await stillThere(this.client.deleteLease(lease.namespace, lease.id, sync, sync ? { timeoutMs: 120_000 } : {})))) {
        moveToSkipped(report.leases.deleted, report.leases.skipped, lease);
        continue;
      }
      collected ||= sync;
      this.log.info({ audit: "lease-deleted", namespace: lease.namespace, lease: lease.id, bytes: lease.bytes, client }, "prune deleted a lease");
    }
    // The store is measured again only after a full collection: force one when no synchronous
    // delete ran it (nothing deleted, or the last lease was already gone) and something waits for it.
    const unreferenced = classified.namespaces.find((ns) =>
      [...ns.content, ...ns.snapshots].some((r) => r.state === "unreferenced"),
    );
    const waiting = report.leases.deleted.length > 0 ? report.leases.deleted[0] : unreferenced && { namespace: unreferenced.name };
    if (!collected && waiting) {
      await this.forceGc(waiting.namespace);
      report.gcForced = true;
    }
  }

  /** containerd has no "run GC" call: deleting a throwaway lease with sync=true is the way `ctr content prune` does it. */
  private async forceGc(namespace: string): Promise<void> {
    const id = `containerd-orphan-exporter-gc-${randomBytes(4).toString("hex")}`;
    const expire = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, "Z");
    await this.client.createLease(namespace, id, { [LABEL.expire]: expire });
    await this.client.deleteLease(namespace, id, true, { timeoutMs: 120_000 });
  }

  private record(report: PruneReport, trigger: PruneTrigger): void {
    this.metrics.recordPrune({
      trigger,
      result: report.dryRun ? "dry_run" : "success",
      reclaimedBytes: report.bytes.reclaimed?.total ?? 0,
      leasesDeleted: report.leases.deleted.length,
      ingestsAborted: report.ingests.aborted.length,
    });
  }
}
