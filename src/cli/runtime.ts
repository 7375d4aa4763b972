import type { FastifyBaseLogger } from "fastify";
import type { Config } from "../config/config.js";
import { ContainerdClient } from "../containerd/client.js";
import { InventoryReader } from "../inventory/read.js";
import { InventorySource } from "../inventory/source.js";
import { ExporterMetrics } from "../metrics/exporter-metrics.js";
import { Pruner } from "../prune/pruner.js";

/** Everything a command needs to talk to containerd, wired once. */
export interface Runtime {
  client: ContainerdClient;
  reader: InventoryReader;
  source: InventorySource;
  metrics: ExporterMetrics;
  pruner: Pruner;
  close(): void;
}

export function createRuntime(config: Config, log: FastifyBaseLogger): Runtime {
  const client = new ContainerdClient({ address: config.containerdAddress, callTimeoutMs: config.containerdTimeoutMs });
  const reader = new InventoryReader(client, { namespaces: config.namespaces });
  const source = new InventorySource(reader, config.policy, log);
  const metrics = new ExporterMetrics();
  const pruner = new Pruner(client, source, metrics, log, config.pruneConfirmWindowMs);
  return { client, reader, source, metrics, pruner, close: () => client.close() };
}
