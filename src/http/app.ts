import helmet from "@fastify/helmet";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Config } from "../config/config.js";
import type { InventorySource } from "../inventory/source.js";
import type { AdminToken } from "./admin-token.js";
import type { ExporterMetrics } from "../metrics/exporter-metrics.js";
import type { Pruner } from "../prune/pruner.js";
import { limitConnections, serverOptions } from "./connection-limits.js";
import { formatValidationErrors } from "./errors.js";
import { adminRoutes } from "./routes/admin.js";
import { healthRoutes } from "./routes/health.js";
import { inventoryRoutes } from "./routes/inventory.js";
import { metricsRoutes } from "./routes/metrics.js";
import { statusRoutes } from "./status/route.js";
import type { WebConfigManager } from "./web-config/manager.js";

export interface AppDeps {
  config: Config;
  source: InventorySource;
  metrics: ExporterMetrics;
  pruner: Pruner;
  version: string;
  /** The admin token in force, re-read from --admin.token-file; config.adminToken, fixed, when absent. */
  adminToken?: AdminToken;
}

export interface BuildOptions {
  /** "main": metrics and pages; "admin": admin routes only; "all": both (the default listener). */
  routes?: "main" | "admin" | "all";
  /** Silent when absent (tests). */
  logger?: FastifyBaseLogger;
  /** TLS options; taken from `webConfig` when absent. */
  https?: object | null;
  /**
   * --web.config.file: TLS, client certificates and (except on the admin-only
   * listener) basic auth on every route, reloaded in place.
   */
  webConfig?: WebConfigManager;
}

/** The HTTP service, built without listening so tests can inject requests. */
export async function buildApp(deps: AppDeps, options: BuildOptions = {}): Promise<FastifyInstance> {
  const routes = options.routes ?? "all";
  const https = options.https ?? options.webConfig?.httpsOptions() ?? null;
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    ...serverOptions(https),
    // Unknown fields are errors, not silently dropped; "yes" is not a boolean.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    schemaErrorFormatter: formatValidationErrors,
    return503OnClosing: true,
    // No line per request: errors and admin actions log themselves (docs/security.md, Logs).
    logController: new LogController({ disableRequestLogging: true }),
  });
  limitConnections(app, options.logger ?? app.log);
  // Every error answers { error: "what went wrong" }, like the routes' own refusals.
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, "request failed");
    return reply.code(status).send({ error: status >= 500 ? `internal error: ${error.message}` : error.message });
  });
  // Plain HTTP is the norm for exporters: no HSTS, no upgrading of links to /metrics.
  await app.register(helmet, {
    global: true,
    hsts: false,
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
  // Before any route, so that basic auth guards every one of them (404s included).
  // The admin-only listener has no basic auth: its routes want the bearer token
  // in the same Authorization header (docs/security.md).
  try {
    options.webConfig?.attach(app, {
      basicAuth: routes !== "admin",
      bearerAdmin: routes !== "main" && deps.config.adminToken !== undefined,
    });
  } catch (error) {
    await app.close();
    throw error;
  }
  await app.register(healthRoutes);
  if (routes !== "admin") {
    await app.register(statusRoutes, deps);
    await app.register(metricsRoutes, deps);
    await app.register(inventoryRoutes, deps);
  }
  if (routes !== "main") await app.register(adminRoutes, deps);
  return app;
}
