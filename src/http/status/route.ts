import type { FastifyPluginAsync } from "fastify";
import { buildInfo } from "../../util/build-info.js";
import type { AppDeps } from "../app.js";
import { scrapeBudgetMs } from "../routes/metrics.js";
import { renderStatusPage } from "./template.js";
import { statusView } from "./view.js";

export const RUNBOOK_URL = "https://github.com/containerd-orphan-exporter/containerd-orphan-exporter/blob/main/docs/runbook.md";

/**
 * GET /: what this node's containerd holds for nobody, readable without Grafana.
 * It reads the classified snapshot /metrics reads, within the same budget.
 */
export const statusRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  const { config } = deps;
  app.get("/", async (request, reply) => {
    const budget = scrapeBudgetMs(request.headers["x-prometheus-scrape-timeout-seconds"], config);
    const classified = await deps.source.classified(Date.now() + budget);
    const view = statusView(classified, {
      now: Date.now() / 1000,
      version: deps.version,
      revision: buildInfo().revision,
      containerdAddress: config.containerdAddress,
      lastPrune: deps.metrics.lastPrune,
      admin: { enabled: config.adminToken !== undefined, address: config.adminListenAddress },
      schedule:
        config.pruneIntervalMs > 0
          ? { intervalMs: config.pruneIntervalMs, minReclaimableBytes: config.pruneMinReclaimableBytes }
          : undefined,
      links: { metrics: config.telemetryPath, inventory: "/api/v1/inventory", health: "/healthz", runbook: RUNBOOK_URL },
    });
    return reply.type("text/html; charset=utf-8").header("cache-control", "no-store").send(renderStatusPage(view));
  });
};
