import type { FastifyPluginAsync } from "fastify";
import type { AppDeps } from "../app.js";

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const landingRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  const path = escape(deps.config.telemetryPath);
  const page = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>containerd-orphan-exporter</title></head>
<body>
<h1>containerd-orphan-exporter</h1>
<p>Version ${escape(deps.version)}. Finds the disk space containerd holds for nobody: stuck leases, partial downloads and orphaned snapshots.</p>
<ul>
<li><a href="${path}">Metrics</a></li>
<li><a href="/api/v1/inventory">What is held, by whom, and what a prune would free (JSON)</a></li>
<li><a href="/healthz">Health</a></li>
</ul>
</body>
</html>
`;
  app.get("/", async (_request, reply) => reply.type("text/html; charset=utf-8").send(page));
};
