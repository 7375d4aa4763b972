import type { NamespaceCollector } from "./collector.js";
import { containersCollector } from "./containers.js";
import { contentCollector } from "./content.js";
import { imagesCollector } from "./images.js";
import { ingestsCollector } from "./ingests.js";
import { leasesCollector } from "./leases.js";
import { sandboxesCollector } from "./sandboxes.js";
import { snapshotsCollector } from "./snapshots.js";

export type { NamespaceCollector, ReadContext } from "./collector.js";

export const NAMESPACE_COLLECTORS: readonly NamespaceCollector[] = [
  leasesCollector,
  contentCollector,
  ingestsCollector,
  snapshotsCollector,
  imagesCollector,
  containersCollector,
  sandboxesCollector,
];
