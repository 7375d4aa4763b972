import type { Registry } from "prom-client";
import type { ClassifiedInventory } from "../../inventory/classify.js";

export interface ScrapeResult {
  classified: ClassifiedInventory;
  /** Collectors whose budget ran out are reported failed by the reader itself. */
  exporterVersion: string;
  leaseDetailLimit: number;
}

/** Writes one group of metric families into a registry made fresh for this scrape. */
export type FamilyWriter = (registry: Registry, scrape: ScrapeResult) => void;
