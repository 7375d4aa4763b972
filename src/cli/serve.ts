import type { FastifyInstance } from "fastify";
import { type Config, splitListenAddress } from "../config/config.js";
import { buildApp } from "../http/app.js";
import { WebConfigManager } from "../http/web-config/manager.js";
import { packageVersion } from "../util/package.js";
import { createLogger } from "./logger.js";
import { createRuntime } from "./runtime.js";

/** Serves until SIGTERM or SIGINT, then closes the listeners and the gRPC channel. */
export async function serve(config: Config): Promise<void> {
  const version = packageVersion();
  const log = createLogger(config.logLevel);
  // Read before anything listens: a bad file stops the start with a message naming it.
  const webConfig = config.webConfigFile ? new WebConfigManager(config.webConfigFile, { log }) : undefined;
  const runtime = createRuntime(config, log);
  const deps = { config, version, source: runtime.source, metrics: runtime.metrics, pruner: runtime.pruner };
  const separateAdmin = config.adminListenAddress !== "";
  const shared = { logger: log, ...(webConfig ? { webConfig } : {}) };
  const apps: FastifyInstance[] = [];
  try {
    apps.push(await buildApp(deps, { ...shared, routes: separateAdmin ? "main" : "all" }));
    if (separateAdmin) apps.push(await buildApp(deps, { ...shared, routes: "admin" }));
    const addresses = [config.listenAddress, config.adminListenAddress];
    await Promise.all(apps.map((app, i) => app.listen(splitListenAddress(addresses[i] as string))));
    log.info(
      {
        containerd: config.containerdAddress,
        admin: config.adminToken ? "enabled" : "disabled (no token configured)",
        tls: webConfig?.tlsEnabled ?? false,
        basicAuth: webConfig?.basicAuth.enabled ?? false,
      },
      `containerd-orphan-exporter ${version} listening on ${addresses.filter(Boolean).join(" and ")}`,
    );
  } catch (error) {
    await Promise.allSettled(apps.map((app) => app.close()));
    runtime.close();
    throw error;
  }
  // Certificates and users change without a restart: on file change, or on SIGHUP.
  if (webConfig) {
    webConfig.watch();
    process.on("SIGHUP", () => void webConfig.reload());
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info(`${signal} received, shutting down`);
    // A prune in progress stops between two containerd calls: each lease delete is atomic.
    runtime.pruner.abort();
    setTimeout(() => process.exit(1), 8000).unref();
    webConfig?.close();
    await Promise.allSettled(apps.map((app) => app.close()));
    runtime.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}
