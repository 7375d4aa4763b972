import type { FastifyBaseLogger } from "fastify";
import { humanBytes } from "../cli/format.js";
import type { InventorySource } from "../inventory/source.js";
import { STORE_RESOURCES } from "../inventory/states.js";
import { PruneBusyError, type Pruner } from "./pruner.js";

export interface ScheduleOptions {
  /** --prune.interval; the first run is at start-up. */
  intervalMs: number;
  /** --prune.min-reclaimable: below this, a run only looks. */
  minReclaimableBytes: number;
  /** Budget of the read that decides whether to prune. */
  readTimeoutMs: number;
}

export type ScheduledOutcome =
  | { ran: true; reclaimedBytes: number; leasesDeleted: number; ingestsAborted: number }
  | { ran: false; reason: "containerd-down" | "below-minimum" | "busy" | "failed"; reclaimableBytes?: number };

/**
 * --prune.interval: the same guarded prune as POST /admin/prune, on a timer, when
 * containerd_reclaimable_bytes has reached --prune.min-reclaimable. It decides on the
 * classification /metrics shows and then lets the prune classify afresh, so what it
 * deletes is what the metrics called reclaimable at that moment. Runs never overlap:
 * the next is planned only when one has finished.
 */
export class PruneSchedule {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private current: Promise<ScheduledOutcome> | undefined;

  constructor(
    private readonly pruner: Pruner,
    private readonly source: InventorySource,
    private readonly log: FastifyBaseLogger,
    private readonly options: ScheduleOptions,
  ) {}

  /** The first run right away (space left by a crash comes back at start-up), then every interval. */
  start(): void {
    this.plan(0);
  }

  /** No further runs; a run in progress finishes (or is aborted with the pruner). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current?.catch(() => undefined);
  }

  private plan(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.current = this.runOnce().finally(() => {
        this.current = undefined;
        this.plan(this.options.intervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  /** One scheduled run: look, and prune when enough is reclaimable. Never throws. */
  async runOnce(): Promise<ScheduledOutcome> {
    const classified = await this.source.classified(Date.now() + this.options.readTimeoutMs);
    if (!classified.inventory.up) {
      this.log.debug("scheduled prune skipped: containerd did not answer");
      return { ran: false, reason: "containerd-down" };
    }
    const reclaimableBytes = STORE_RESOURCES.reduce((sum, r) => sum + classified.reclaimable[r], 0);
    if (reclaimableBytes < this.options.minReclaimableBytes) {
      this.log.debug(
        { reclaimable: reclaimableBytes, minimum: this.options.minReclaimableBytes },
        "scheduled prune skipped: not enough reclaimable",
      );
      return { ran: false, reason: "below-minimum", reclaimableBytes };
    }
    if (this.pruner.running) return { ran: false, reason: "busy", reclaimableBytes };
    try {
      const report = await this.pruner.run({
        dryRun: false,
        abortIngests: true,
        policy: this.source.policy,
        client: "schedule",
        trigger: "schedule",
      });
      const reclaimed = report.bytes.reclaimed?.total ?? 0;
      this.log.info(
        { trigger: "schedule", leases: report.leases.deleted.length, ingests: report.ingests.aborted.length, reclaimed },
        `scheduled prune reclaimed ${humanBytes(reclaimed)}`,
      );
      return { ran: true, reclaimedBytes: reclaimed, leasesDeleted: report.leases.deleted.length, ingestsAborted: report.ingests.aborted.length };
    } catch (error) {
      if (error instanceof PruneBusyError) return { ran: false, reason: "busy", reclaimableBytes };
      this.log.error({ err: error, trigger: "schedule" }, "scheduled prune failed");
      return { ran: false, reason: "failed", reclaimableBytes };
    }
  }
}
