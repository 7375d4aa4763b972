import type { Registry } from "prom-client";
import type { ClassifiedInventory } from "../../inventory/classify.js";

export interface ScrapeResult {
  /** What this scrape read and how it was classified; collectors that ran out of budget are marked failed in it. */
  classified: ClassifiedInventory;
  exporterVersion: string;
  /** --metrics.lease-detail-limit */
  leaseDetailLimit: number;
}

/** Writes one group of metric families into a registry made fresh for this scrape. */
export type FamilyWriter = (registry: Registry, scrape: ScrapeResult) => void;
