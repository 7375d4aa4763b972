import type { FastifyBaseLogger } from "fastify";
import type { Config } from "../config/config.js";
import { ContainerdClient } from "../containerd/client.js";
import { InventoryReader } from "../inventory/read.js";
import { InventorySource } from "../inventory/source.js";
import { ExporterMetrics, type PruneTrigger } from "../metrics/exporter-metrics.js";
import { Pruner } from "../prune/pruner.js";
import { PruneSchedule } from "../prune/schedule.js";

/** Everything a command needs to talk to containerd, wired once. */
export interface Runtime {
  client: ContainerdClient;
  reader: InventoryReader;
  source: InventorySource;
  metrics: ExporterMetrics;
  pruner: Pruner;
  /** --prune.interval; undefined when it is 0 (off). Not started here: serve starts it. */
  schedule: PruneSchedule | undefined;
  close(): void;
}

export function createRuntime(config: Config, log: FastifyBaseLogger): Runtime {
  const client = new ContainerdClient({ address: config.containerdAddress, callTimeoutMs: config.containerdTimeoutMs });
  const reader = new InventoryReader(client, { namespaces: config.namespaces });
  const source = new InventorySource(reader, config.policy, log);
  // The triggers this process can see from its first scrape on; `cli` appears with its first run.
  const triggers: PruneTrigger[] = config.pruneIntervalMs > 0 ? ["http", "schedule"] : ["http"];
  const metrics = new ExporterMetrics({ triggers });
  const pruner = new Pruner(client, source, metrics, log, config.pruneConfirmWindowMs);
  const schedule =
    config.pruneIntervalMs > 0
      ? new PruneSchedule(pruner, source, log, {
          intervalMs: config.pruneIntervalMs,
          minReclaimableBytes: config.pruneMinReclaimableBytes,
          readTimeoutMs: config.scrapeTimeoutMs,
        })
      : undefined;
  return { client, reader, source, metrics, pruner, schedule, close: () => client.close() };
}
