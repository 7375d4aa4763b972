import type { FastifyInstance } from "fastify";
import { type Config, splitListenAddress } from "../config/config.js";
import { buildApp } from "../http/app.js";
import { packageVersion } from "../util/package.js";
import { createLogger } from "./logger.js";
import { createRuntime } from "./runtime.js";

/** Serves until SIGTERM or SIGINT, then closes the listeners and the gRPC channel. */
export async function serve(config: Config): Promise<void> {
  const version = packageVersion();
  const log = createLogger(config.logLevel);
  const runtime = createRuntime(config, log);
  const deps = { config, version, source: runtime.source, metrics: runtime.metrics, pruner: runtime.pruner };
  const separateAdmin = config.adminListenAddress !== "";
  const apps: FastifyInstance[] = [
    await buildApp(deps, { routes: separateAdmin ? "main" : "all", logger: log }),
    ...(separateAdmin ? [await buildApp(deps, { routes: "admin", logger: log })] : []),
  ];
  const addresses = [config.listenAddress, config.adminListenAddress];
  await Promise.all(apps.map((app, i) => app.listen(splitListenAddress(addresses[i] as string))));
  log.info(
    { containerd: config.containerdAddress, admin: config.adminToken ? "enabled" : "disabled (no token configured)" },
    `containerd-orphan-exporter ${version} listening on ${addresses.filter(Boolean).join(" and ")}`,
  );

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info(`${signal} received, shutting down`);
    // A prune in progress stops between two containerd calls: each lease delete is atomic.
    runtime.pruner.abort();
    setTimeout(() => process.exit(1), 8000).unref();
    await Promise.allSettled(apps.map((app) => app.close()));
    runtime.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}
