import type { FastifyInstance } from "fastify";
import { type Config, splitListenAddress } from "../config/config.js";
import { AdminToken } from "../http/admin-token.js";
import { buildApp } from "../http/app.js";
import { WebConfigManager } from "../http/web-config/manager.js";
import { packageVersion } from "../util/package.js";
import { createLogger } from "./logger.js";
import { createRuntime } from "./runtime.js";

/** How long a stop waits for a prune's call in flight to end (and its audit line to be written). */
const PRUNE_STOP_GRACE_MS = 5000;

/** Serves until SIGTERM or SIGINT, then closes the listeners and the gRPC channel; SIGHUP reloads. */
export async function serve(config: Config): Promise<void> {
  const version = packageVersion();
  const log = createLogger(config.logLevel);
  // Read before anything listens: a bad file stops the start with a message naming it.
  const webConfig = config.webConfigFile ? new WebConfigManager(config.webConfigFile, { log }) : undefined;
  const runtime = createRuntime(config, log);
  const adminToken = new AdminToken(config.adminToken, config.adminTokenFile, log);
  adminToken.checkMode();
  const deps = { config, version, source: runtime.source, metrics: runtime.metrics, pruner: runtime.pruner, adminToken };
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
  // Certificates, users and the admin token change without a restart: on file change, or on
  // SIGHUP. SIGHUP is handled in every configuration (Node's default would end the process) and
  // never touches a prune in progress.
  webConfig?.watch();
  adminToken.watch();
  process.on("SIGHUP", () => {
    const reloaded = [
      ...(webConfig ? [`web config ${webConfig.reload() ? "reloaded" : "kept (reload failed)"}`] : []),
      ...(config.adminTokenFile ? [`admin token ${adminToken.reload() ? "reloaded" : "kept (reload failed)"}`] : []),
    ];
    log.info({ signal: "SIGHUP" }, `SIGHUP received: ${reloaded.length ? reloaded.join(", ") : "nothing to reload (no --web.config.file, no --admin.token-file)"}`);
  });

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info(`${signal} received, shutting down`);
    setTimeout(() => process.exit(1), PRUNE_STOP_GRACE_MS + 3000).unref();
    // A prune in progress stops between two containerd calls (each lease delete is atomic), after
    // the call in flight has ended and its audit line is written.
    await runtime.pruner.stop(PRUNE_STOP_GRACE_MS);
    webConfig?.close();
    adminToken.close();
    await Promise.allSettled(apps.map((app) => app.close()));
    runtime.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}
