import type { FastifyInstance } from "fastify";
import { type Config, splitListenAddress } from "../config/config.js";
import { AdminToken } from "../http/admin-token.js";
import { buildApp } from "../http/app.js";
import { WebConfigManager } from "../http/web-config/manager.js";
import { formatDuration } from "../config/duration.js";
import { buildInfo } from "../util/build-info.js";
import { humanBytes } from "./format.js";
import { createLogger } from "./logger.js";
import { missingNamespaces } from "./namespaces.js";
import { createRuntime } from "./runtime.js";

/** How long a stop waits for a prune's call in flight to end (and its audit line to be written). */
const PRUNE_STOP_GRACE_MS = 5000;

/** Serves until SIGTERM or SIGINT, then closes the listeners and the gRPC channel; SIGHUP reloads. */
export async function serve(config: Config): Promise<void> {
  const build = buildInfo();
  const version = build.version;
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  // Read before anything listens: a bad file stops the start with a message naming it.
  const webConfig = config.webConfigFile ? new WebConfigManager(config.webConfigFile, { log }) : undefined;
  const runtime = createRuntime(config, log);
  const adminToken = new AdminToken(config.adminToken, config.adminTokenFile, log);
  adminToken.checkMode();
  const deps = { config, version, source: runtime.source, metrics: runtime.metrics, pruner: runtime.pruner, adminToken };
  const separateAdmin = config.adminListenAddress !== "";
  // fastify's own info lines ("Server listening at ...") would repeat the start-up line:
  // the listeners log warnings and errors only.
  const shared = { logger: log.child({}, { level: "warn" }), ...(webConfig ? { webConfig } : {}) };
  const apps: FastifyInstance[] = [];
  try {
    apps.push(await buildApp(deps, { ...shared, routes: separateAdmin ? "main" : "all" }));
    if (separateAdmin) apps.push(await buildApp(deps, { ...shared, routes: "admin" }));
    const addresses = [config.listenAddress, config.adminListenAddress];
    await Promise.all(apps.map((app, i) => app.listen(splitListenAddress(addresses[i] as string))));
    // The one start-up line: what runs, where it listens, what it reads, what it may delete.
    log.info(
      {
        version,
        revision: build.revision,
        node: build.nodeVersion,
        address: config.listenAddress,
        ...(separateAdmin ? { admin_address: config.adminListenAddress } : {}),
        containerd: config.containerdAddress,
        namespaces: config.namespaces.length > 0 ? config.namespaces.join(",") : "all",
        admin: config.adminToken ? "on" : "off",
        prune_interval: config.pruneIntervalMs > 0 ? formatDuration(config.pruneIntervalMs) : "off",
        ...(config.pruneIntervalMs > 0 ? { prune_min_reclaimable: humanBytes(config.pruneMinReclaimableBytes) } : {}),
        tls: webConfig?.tlsEnabled ?? false,
        basic_auth: webConfig?.basicAuth.enabled ?? false,
      },
      "containerd-orphan-exporter started",
    );
  } catch (error) {
    await Promise.allSettled(apps.map((app) => app.close()));
    runtime.close();
    throw error;
  }
  // A namespace asked for that containerd does not have reads as empty forever: say so once.
  void missingNamespaces(runtime.client, config.namespaces, Date.now() + config.containerdTimeoutMs, config.namespacesSource).then((problem) => {
    if (problem) log.warn(problem);
  });
  runtime.schedule?.start();
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
    // the call in flight has ended and its audit line is written; the schedule starts no new run.
    const scheduleStopped = runtime.schedule?.stop();
    await runtime.pruner.stop(PRUNE_STOP_GRACE_MS);
    await scheduleStopped;
    webConfig?.close();
    adminToken.close();
    await Promise.allSettled(apps.map((app) => app.close()));
    runtime.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}
