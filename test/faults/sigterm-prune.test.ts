import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PruneReport } from "../../src/prune/pruner.js";
import { pushImage } from "../lab/images.js";
import { listLeases } from "../lab/inspect.js";
import { startLab, type Lab } from "../lab/lab.js";
import { freePort } from "../lab/ports.js";
import { cancelledDownload } from "../lab/scenarios.js";
import { waitFor } from "../lab/wait.js";
import { parseExposition, sample } from "../support/exposition.js";
import { startTestApp } from "../support/app.js";
import { fetchPrune, injectPrune } from "../support/prune-check.js";

// A prune interrupted by SIGTERM: the process leaves within 10 s, no lease is half handled, and
// the next exporter sees the truth and prunes normally.
const TOKEN = "sigterm-prune-token";
const ROOT = new URL("../..", import.meta.url).pathname;
let lab: Lab;
let exporter: ChildProcess | undefined;

beforeAll(async () => {
  lab = await startLab();
  const image = await pushImage(lab, { repo: "sigterm", tag: "1", layers: [{ size: 3 << 20 }] });
  await cancelledDownload(lab, "dl", image);
}, 60_000);

afterAll(async () => {
  exporter?.kill("SIGKILL");
  await lab?.stop();
});

describe("SIGTERM during a prune", () => {
  it("exits promptly without half-handling a lease, and the next prune works", async () => {
    const leasesBefore = await listLeases(lab, "dl");
    expect(leasesBefore).toHaveLength(1);
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        "--import", "tsx", "src/cli/main.ts", "serve",
        `--containerd.address=${lab.socket}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--prune.confirm-window=5s",
        "--log.level=warn",
      ],
      { cwd: ROOT, env: { ...process.env, ADMIN_TOKEN: TOKEN }, stdio: ["ignore", "ignore", "pipe"] },
    );
    exporter = child;
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;
    await waitFor("the exporter to listen", async () => (await fetch(`${base}/healthz`)).ok, {
      timeoutMs: 20_000,
      describe: () => stderr,
    });

    const pruning = fetchPrune(base, TOKEN, { leaseStaleAfter: "0s", ingestIdleAfter: "0s" }).then((res) => res.status, () => "connection closed");
    await new Promise((resolve) => setTimeout(resolve, 1000)); // inside the 5 s confirmation window
    const signalled = Date.now();
    child.kill("SIGTERM");
    await exited;
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect([502, 503, "connection closed"]).toContain(await pruning);

    // Nothing was deleted: the prune stopped before its first delete.
    expect(await listLeases(lab, "dl")).toEqual(leasesBefore);

    const next = await startTestApp([`--containerd.address=${lab.socket}`, "--prune.confirm-window=0s"], { ADMIN_TOKEN: TOKEN });
    try {
      const metrics = parseExposition((await next.app.inject({ url: "/metrics" })).body);
      expect(sample(metrics, "containerd_leases", { namespace: "dl", state: "active", owner: "client" })).toBe(1);
      const res = await injectPrune(next.app, TOKEN, { leaseStaleAfter: "0s", ingestIdleAfter: "0s" });
      expect(res.statusCode).toBe(200);
      expect((res.json() as PruneReport).leases.deleted.map((l) => l.id)).toEqual(leasesBefore.map((l) => l.id));
      expect(await listLeases(lab, "dl")).toEqual([]);
    } finally {
      await next.close();
    }
  });
});
