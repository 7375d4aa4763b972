import type { FastifyBaseLogger } from "fastify";
import { classify, type ClassifiedInventory } from "./classify.js";
import { NAMESPACE_COLLECTORS } from "./collectors/index.js";
import type { InventoryReader } from "./read.js";
import type { Policy } from "./states.js";
import type { CollectorName, Inventory } from "./types.js";

/**
 * Reads of containerd in flight at once, whatever the callers' budgets: one for
 * the scrapes, one for a caller with a shorter budget or a prune. Without a cap,
 * scrapes that each send a slightly shorter X-Prometheus-Scrape-Timeout-Seconds
 * could never join each other and would each start a full read.
 */
export const MAX_CONCURRENT_READS = 2;

interface Read {
  inventory: Promise<Inventory>;
  deadline: number;
}

const ALL_COLLECTORS: CollectorName[] = ["namespaces", "version", ...NAMESPACE_COLLECTORS.map((c) => c.name)];

/** The answer of a caller that could neither join a read in time nor start one: nothing was read for it. */
function notRead(reason: string): Inventory {
  return {
    readAt: Date.now() / 1000,
    up: false,
    containerd: null,
    snapshotters: [],
    namespaces: [],
    collectors: ALL_COLLECTORS.map((collector) => ({ collector, success: false, durationSeconds: 0, errors: [reason] })),
  };
}

/**
 * The one place /metrics, the inventory API and the prune get containerd's
 * classified state from, so that what the metrics call reclaimable is exactly
 * what the prune removes.
 */
export class InventorySource {
  private lastUp: boolean | undefined;
  private reads: Read[] = [];
  /**
   * Callers that joined the same read (concurrent scrapes) share one classification too, so
   * ten scrapes at once hold one classified copy of the inventory, not ten.
   */
  private readonly shared = new WeakMap<Inventory, Map<Policy, ClassifiedInventory>>();

  constructor(
    private readonly reader: InventoryReader,
    readonly policy: Policy,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Reads in flight right now (at most MAX_CONCURRENT_READS). */
  get readsInFlight(): number {
    return this.reads.length;
  }

  async classified(
    deadline: number,
    policy: Policy = this.policy,
    options: { fresh?: boolean } = {},
  ): Promise<ClassifiedInventory> {
    const { inventory, read } = await this.inventory(deadline, options.fresh ?? false);
    if (read) this.noteUp(inventory.up, inventory.collectors.find((c) => c.collector === "namespaces")?.errors[0]);
    let byPolicy = this.shared.get(inventory);
    const done = byPolicy?.get(policy);
    if (done) return done;
    const classified = classify(inventory, policy, Date.now() / 1000);
    if (!byPolicy) this.shared.set(inventory, (byPolicy = new Map()));
    byPolicy.set(policy, classified);
    return classified;
  }

  /**
   * Joins a read in flight that ends no later than the caller must answer;
   * else starts one if a slot is free; else joins the read that ends first
   * and, if it is not done by the caller's deadline, answers that nothing was
   * read. `fresh` (the prune, which must see its own changes) waits for a slot.
   */
  private async inventory(deadline: number, fresh: boolean): Promise<{ inventory: Inventory; read: boolean }> {
    if (!fresh) {
      const fits = this.reads.find((r) => r.deadline <= deadline);
      if (fits) return { inventory: await fits.inventory, read: true };
      if (this.reads.length >= MAX_CONCURRENT_READS) return this.joinWithin(deadline);
    }
    while (this.reads.length >= MAX_CONCURRENT_READS) await Promise.race(this.reads.map((r) => r.inventory.catch(() => undefined)));
    return { inventory: await this.start(deadline), read: true };
  }

  private start(deadline: number): Promise<Inventory> {
    const read: Read = { deadline, inventory: this.reader.read(deadline, { fresh: true }) };
    this.reads.push(read);
    const leave = () => {
      this.reads = this.reads.filter((r) => r !== read);
    };
    read.inventory.then(leave, leave);
    return read.inventory;
  }

  private async joinWithin(deadline: number): Promise<{ inventory: Inventory; read: boolean }> {
    const soonest = this.reads.reduce((a, b) => (b.deadline < a.deadline ? b : a));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()))));
    const inventory = await Promise.race([soonest.inventory, late]);
    clearTimeout(timer);
    if (inventory) return { inventory, read: true };
    const reason = `not read: ${MAX_CONCURRENT_READS} reads of containerd were already in flight and none ended within this request's budget`;
    return { inventory: notRead(reason), read: false };
  }

  /** One log line per change of containerd's reachability, not one per scrape. */
  private noteUp(up: boolean, error: string | undefined): void {
    if (up === this.lastUp) return;
    if (up) this.log.info("containerd is reachable");
    else this.log.error(`containerd is unreachable: ${error ?? "unknown error"}`);
    this.lastUp = up;
  }
}
