import { randomBytes } from "node:crypto";
import type { FastifyBaseLogger } from "fastify";
import type { ContainerdClient } from "../containerd/client.js";
import { ContainerdDownError } from "../containerd/errors.js";
import type { ByResource, ClassifiedInventory } from "../inventory/classify.js";
import type { InventorySource } from "../inventory/source.js";
import { LABEL, type Policy } from "../inventory/states.js";
import type { ExporterMetrics, PruneTrigger } from "../metrics/exporter-metrics.js";
import { type AuditAction, AuditLog, type AuditOutcome, type AuditTarget, outcomeOf } from "./audit.js";
import { confirmIdle, ingestKey, leaseKey } from "./guard.js";
import { type Bytes, measure, withTotal } from "./measure.js";
import { type IngestCandidate, type LeaseCandidate, planPrune, predictedBy, type SkipReason } from "./plan.js";

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
    /** Store bytes after, measured again; absent on a dry run and when the measurement failed. */
    after?: ByResource;
    /** Bytes of the objects present before and gone after (digest, snapshot key, ingest ref); never negative. */
    reclaimed?: Bytes;
    /** after − (before − reclaimed): what others added to the store (pulls) while the prune ran. */
    drift?: Bytes;
    /** What the classification said a prune would free. */
    predicted: Bytes;
    /** Why the store could not be measured after the prune; the deletions in the report happened all the same. */
    measurementError?: string;
  };
}

export class PruneBusyError extends Error {
  constructor() {
    super("a prune is already running; try again when it has finished");
  }
}

/** A delete whose outcome is not "deleted" or "gone": the prune stops there. */
export class PruneCallError extends Error {}

/** How long a prune keeps re-reading containerd to learn what became of a delete that timed out. */
const SETTLE_MS = 30_000;

const noun = (action: AuditAction) => (action === "lease-delete" ? "lease" : "ingest");

function moveToSkipped<T extends { reason?: SkipReason }>(from: T[], to: T[], item: T): void {
  from.splice(from.indexOf(item), 1);
  to.push({ ...item, reason: "gone" });
}

const seconds = (from: number) => Math.round(performance.now() - from) / 1000;

/**
 * Gives back what the metrics call reclaimable: deletes stale and expired
 * leases and aborts stale ingests, after making sure none of them is still
 * moving, then lets containerd's GC remove what they held. One at a time.
 */
export class Pruner {
  private busy = false;
  private controller: AbortController | undefined;
  private audit: AuditLog | undefined;
  private finished: Promise<unknown> = Promise.resolve();

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

  /**
   * abort(), then waits up to `graceMs` for the call in flight to end and its
   * outcome to be logged. Past that, the call's audit line says its outcome is
   * unknown, so a stop never leaves an intent without its outcome.
   */
  async stop(graceMs: number): Promise<void> {
    this.abort();
    if (!this.busy) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<true>((resolve) => (timer = setTimeout(() => resolve(true), graceMs)));
    const late = await Promise.race([this.finished.then(() => false, () => false), timedOut]);
    clearTimeout(timer);
    const pending = this.audit?.pending;
    if (late && pending) this.audit?.outcome(pending, "unknown: the exporter stopped before containerd answered");
  }

  run(request: PruneRequest): Promise<PruneReport> {
    if (this.busy) return Promise.reject(new PruneBusyError());
    const running = this.runOnce(request);
    this.finished = running;
    return running;
  }

  private async runOnce(request: PruneRequest): Promise<PruneReport> {
    this.busy = true;
    this.controller = new AbortController();
    const audit = new AuditLog(this.log, request.client);
    this.audit = audit;
    try {
      const report = await this.prune(request, this.controller.signal);
      this.record(request.trigger ?? "http", audit, { report });
      return report;
    } catch (error) {
      this.record(request.trigger ?? "http", audit, { error: error as Error });
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
      bytes: { before: classified.store, predicted: withTotal(predictedBy(classified, leases, ingests)) },
    };
    if (!request.dryRun) {
      const deleteStart = performance.now();
      signal?.throwIfAborted();
      await this.apply(classified, report, request.client, signal);
      report.timings.deleteSeconds = seconds(deleteStart);
      const measured = measure(classified, await this.freshClassification(request.policy));
      if (measured.ok) Object.assign(report.bytes, { after: measured.after, reclaimed: measured.reclaimed, drift: measured.drift });
      else report.bytes.measurementError = `the store could not be measured after the prune: ${measured.error}`;
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
      const target: AuditTarget = { action: "ingest-abort", namespace: ingest.namespace, id: ingest.ref, bytes: ingest.bytes };
      const done = await this.call(target, client, () => this.client.abortIngest(ingest.namespace, ingest.ref));
      if (!done) moveToSkipped(report.ingests.aborted, report.ingests.skipped, ingest);
    }
    const toDelete = [...report.leases.deleted];
    let collected = false;
    for (const [index, lease] of toDelete.entries()) {
      signal?.throwIfAborted();
      const sync = index === toDelete.length - 1;
      const target: AuditTarget = { action: "lease-delete", namespace: lease.namespace, id: lease.id, bytes: lease.bytes ?? 0 };
      const done = await this.call(target, client, () =>
        this.client.deleteLease(lease.namespace, lease.id, sync, sync ? { timeoutMs: 120_000 } : {}),
      );
      if (!done) {
        moveToSkipped(report.leases.deleted, report.leases.skipped, lease);
        continue;
      }
      collected ||= sync;
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

  /**
   * One delete call between its two audit lines. True when containerd deleted
   * it, false when it was already gone; throws (after logging the outcome)
   * when it failed or its outcome is unknown. An unknown outcome (a timeout:
   * containerd may carry the call out later) is settled by re-reading first.
   */
  private async call(target: AuditTarget, client: string, remove: () => Promise<void>): Promise<boolean> {
    const audit = this.audit ?? new AuditLog(this.log, client);
    audit.intent(target);
    let outcome: AuditOutcome;
    let failure: unknown;
    try {
      await remove();
      outcome = "deleted";
    } catch (error) {
      failure = error;
      outcome = outcomeOf(error);
    }
    if (outcome.startsWith("unknown:")) {
      const settled = await this.settle(target);
      if (settled) {
        audit.outcome(target, settled, `settled by re-reading containerd after: ${outcome}`);
        const word = settled === "deleted" ? "was deleted" : "was not deleted";
        throw new PruneCallError(`${(failure as Error).message}; re-reading containerd shows the ${noun(target.action)} ${word}`);
      }
    }
    audit.outcome(target, outcome);
    if (outcome === "deleted") return true;
    if (outcome === "gone") return false;
    throw failure;
  }

  /** Whether the object is still there, by reading containerd until two reads half a second apart agree. */
  private async settle(target: AuditTarget): Promise<"deleted" | "not-deleted" | undefined> {
    const until = Date.now() + SETTLE_MS;
    let last: boolean | undefined;
    while (Date.now() < until) {
      try {
        const present = await this.present(target, until);
        if (present === last) return present ? "not-deleted" : "deleted";
        last = present;
        await new Promise((resolve) => setTimeout(resolve, 500));
      } catch {
        last = undefined;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    return undefined;
  }

  private async present(target: AuditTarget, deadline: number): Promise<boolean> {
    if (target.action === "lease-delete") {
      return (await this.client.listLeases(target.namespace, { deadline })).some((l) => l.id === target.id);
    }
    return (await this.client.listIngests(target.namespace, { deadline })).some((i) => i.ref === target.id);
  }

  /** containerd has no "run GC" call: deleting a throwaway lease with sync=true is the way `ctr content prune` does it. */
  private async forceGc(namespace: string): Promise<void> {
    const id = `containerd-orphan-exporter-gc-${randomBytes(4).toString("hex")}`;
    const expire = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, "Z");
    await this.client.createLease(namespace, id, { [LABEL.expire]: expire });
    await this.client.deleteLease(namespace, id, true, { timeoutMs: 120_000 });
  }

  /**
   * One run in the metrics. What was deleted is what its audit lines say, whatever the result (a
   * run that failed half-way still deleted that much); bytes count only when they were measured,
   * and a failed measurement is a failed run.
   */
  private record(trigger: PruneTrigger, audit: AuditLog, run: { report: PruneReport } | { error: Error }): void {
    const deleted = { leasesDeleted: audit.deleted["lease-delete"], ingestsAborted: audit.deleted["ingest-abort"] };
    if ("error" in run) {
      this.metrics.recordPrune({ trigger, result: "failure", reclaimedBytes: 0, ...deleted, error: run.error.message });
      return;
    }
    const { report } = run;
    const error = report.bytes.measurementError;
    this.metrics.recordPrune({
      trigger,
      result: report.dryRun ? "dry_run" : error === undefined ? "success" : "failure",
      reclaimedBytes: report.bytes.reclaimed?.total ?? 0,
      ...deleted,
      ...(error === undefined ? {} : { error }),
    });
  }
}
