import type { FastifyPluginAsync } from "fastify";
import type { Config } from "../../config/config.js";
import type { AppDeps } from "../app.js";
import { RenderOnce } from "../rendered.js";

const MIN_BUDGET_MS = 100;

/**
 * The scrape's budget: Prometheus' own timeout (it sends it in a header) less
 * a safety offset, or the configured default. A nonsense header is ignored.
 */
export function scrapeBudgetMs(header: string | string[] | undefined, config: Config): number {
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  const budget =
    header !== undefined && Number.isFinite(seconds) && seconds > 0
      ? seconds * 1000 - config.scrapeTimeoutOffsetMs
      : config.scrapeTimeoutMs;
  return Math.max(MIN_BUDGET_MS, Math.min(budget, config.scrapeTimeoutMs * 10));
}

export function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined && /application\/openmetrics-text/i.test(accept);
}

/** Reads containerd on every scrape: no background polling, no stale values. */
export const metricsRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  const rendered = new RenderOnce();
  app.get(deps.config.telemetryPath, { logLevel: "warn" }, async (request, reply) => {
    const budget = scrapeBudgetMs(request.headers["x-prometheus-scrape-timeout-seconds"], deps.config);
    const classified = await deps.source.classified(Date.now() + budget);
    const openMetrics = wantsOpenMetrics(request.headers.accept);
    const { body, contentType } = await rendered.get(classified, openMetrics ? "openmetrics" : "text", () =>
      deps.metrics.render(
        { classified, exporterVersion: deps.version, leaseDetailLimit: deps.config.leaseDetailLimit },
        openMetrics,
      ),
    );
    return reply.type(contentType).send(body);
  });
};
