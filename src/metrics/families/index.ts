import { writeContent } from "./content.js";
import type { FamilyWriter } from "./family.js";
import { writeHealth } from "./health.js";
import { writeIngests } from "./ingests.js";
import { writeLeases } from "./leases.js";
import { writeSnapshots } from "./snapshots.js";
import { writeStore } from "./store.js";

export type { FamilyWriter, ScrapeResult } from "./family.js";

export const FAMILY_WRITERS: readonly FamilyWriter[] = [
  writeHealth,
  writeLeases,
  writeContent,
  writeIngests,
  writeSnapshots,
  writeStore,
];
