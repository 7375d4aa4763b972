import type { FastifyBaseLogger } from "fastify";
import { classify, type ClassifiedInventory } from "./classify.js";
import type { InventoryReader } from "./read.js";
import type { Policy } from "./states.js";
import type { Inventory } from "./types.js";

/**
 * The one place /metrics, the inventory API and the prune get containerd's
 * classified state from, so that what the metrics call reclaimable is exactly
 * what the prune removes.
 */
export class InventorySource {
  private lastUp: boolean | undefined;
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

  async classified(
    deadline: number,
    policy: Policy = this.policy,
    options: { fresh?: boolean } = {},
  ): Promise<ClassifiedInventory> {
    const inventory = await this.reader.read(deadline, options);
    this.noteUp(inventory.up, inventory.collectors.find((c) => c.collector === "namespaces")?.errors[0]);
    let byPolicy = this.shared.get(inventory);
    const done = byPolicy?.get(policy);
    if (done) return done;
    const classified = classify(inventory, policy, Date.now() / 1000);
    if (!byPolicy) this.shared.set(inventory, (byPolicy = new Map()));
    byPolicy.set(policy, classified);
    return classified;
  }

  /** One log line per change of containerd's reachability, not one per scrape. */
  private noteUp(up: boolean, error: string | undefined): void {
    if (up === this.lastUp) return;
    if (up) this.log.info("containerd is reachable");
    else this.log.error({ err: error }, `containerd is unreachable: ${error ?? "unknown error"}`);
    this.lastUp = up;
  }
}
