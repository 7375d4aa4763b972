import type { FastifyPluginAsync } from "fastify";
import { dfReport } from "../../inventory/report.js";
import type { AppDeps } from "../app.js";

/** The same figures as `df --json`: per namespace and state, plus the stuck leases. */
export const inventoryRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  app.get("/api/v1/inventory", async () => {
    const classified = await deps.source.classified(Date.now() + deps.config.scrapeTimeoutMs);
    return dfReport(classified);
  });
};
