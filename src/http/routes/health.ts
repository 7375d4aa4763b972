import type { FastifyPluginAsync } from "fastify";

/** Liveness of the process itself: answers without asking containerd. */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get("/healthz", { logLevel: "warn" }, async (_request, reply) => reply.type("text/plain").send("ok\n"));
};
