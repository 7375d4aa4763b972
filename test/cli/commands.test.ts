import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { pushImage } from "../lab/images.js";
import { listLeases } from "../lab/inspect.js";
import { type CancelledDownload, cancelledDownload, uniqueNamespace } from "../lab/scenarios.js";
import { parseExposition, sample } from "../support/exposition.js";
import { lines, parseLogfmt, runCli, type Server, startServer } from "../support/cli.js";

// The commands and the server's log as a person meets them, on the lab's real containerd:
// plain messages, the real reason, logfmt (or JSON on request) with ts= and level names, and
// no line per request.
const lab = inject("lab");
const TOKEN = "commands-test-token";
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

async function cutPull(prefix: string): Promise<CancelledDownload> {
  const ns = uniqueNamespace(prefix);
  const image = await pushImage(lab, { repo: `cli-${ns}`, tag: "1", layers: [{ size: 3 << 20 }] });
  return cancelledDownload(lab, ns, image);
}

let dfCut: CancelledDownload;
let httpCut: CancelledDownload;
let remoteCut: CancelledDownload;
const servers: Server[] = [];

beforeAll(async () => {
  dfCut = await cutPull("cli-df");
  httpCut = await cutPull("cli-http");
  remoteCut = await cutPull("cli-remote");
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

const on = (cut: CancelledDownload) => [`--containerd.address=${lab.socket}`, `--containerd.namespaces=${cut.namespace}`];

describe("one-shot commands", () => {
  it("--version prints the version, the revision and Node's version", async () => {
    const r = await runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^containerd-orphan-exporter, version \d+\.\d+\.\d+ \(branch: \S+, revision: ([0-9a-f]{40}|unknown)\)\n {2}node version: v20\./);
  });

  it("keeps the log out of a command's output even when the environment sets a log level", async () => {
    const r = await runCli(["df", ...on(dfCut)], { CONTAINERD_ORPHAN_EXPORTER_LOG_LEVEL: "debug" });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
  });

  it("df prints the table and nothing on stderr", async () => {
    const r = await runCli(["df", ...on(dfCut), "--lease.stale-after=0s", "--ingest.idle-after=0s"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^NAMESPACE\s+RESOURCE\s+STATE/);
    expect(r.stdout).toContain(dfCut.leases[0]?.id);
  });

  it("inventory prints a readable summary, and JSON only with --json", async () => {
    const summary = await runCli(["inventory", ...on(dfCut)]);
    expect(summary.code).toBe(0);
    expect(() => JSON.parse(summary.stdout)).toThrow();
    expect(summary.stdout).toMatch(new RegExp(`^${dfCut.namespace}\\s+1\\s+`, "m")); // one lease
    expect(summary.stdout).toMatch(/^containerd v?1\./);
    const json = await runCli(["inventory", "--json", ...on(dfCut)]);
    expect(JSON.parse(json.stdout).namespaces[0].leases[0].id).toBe(dfCut.leases[0]?.id);
  });

  it.each([["df"], ["inventory"], ["prune", "--dry-run"]])("%s says why when containerd does not answer, in one plain line", async (...args) => {
    const r = await runCli([...args, "--containerd.address=/nonexistent/containerd.sock"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^containerd-orphan-exporter: .*no containerd socket at \/nonexistent\/containerd\.sock: is containerd running\?/);
    expect(r.stderr).not.toMatch(/[{}]|level=/);
  });

  it("names namespaces that do not exist, with those that do", async () => {
    const r = await runCli(["df", `--containerd.address=${lab.socket}`, "--containerd.namespaces=nope-ns"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--containerd\.namespaces: containerd at .* has no namespace "nope-ns"; it has: .*/);
    expect(r.stderr).toContain(dfCut.namespace);
    const fromEnv = await runCli(["df", `--containerd.address=${lab.socket}`], { CONTAINERD_ORPHAN_EXPORTER_CONTAINERD_NAMESPACES: "nope-ns" });
    expect(fromEnv.stderr).toMatch(/^containerd-orphan-exporter: CONTAINERD_ORPHAN_EXPORTER_CONTAINERD_NAMESPACES \(the environment twin of --containerd\.namespaces\): .*"nope-ns"/);
  });

  it("prune prints its report on stdout and its audit lines as logfmt on stderr, whatever --log.level", async () => {
    const r = await runCli(["prune", ...on(dfCut), "--lease-stale-after=0s", "--ingest.idle-after=0s", "--log.level=error", "--prune.confirm-window=0s"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Prune finished\./);
    const audit = lines(r.stderr).map(parseLogfmt);
    expect(audit.length).toBeGreaterThan(0);
    expect(audit.every((a) => a.audit !== undefined && ISO.test(a.ts ?? "") && a.level === "info")).toBe(true);
    expect(audit.find((a) => a.audit === "lease-delete" && a.outcome === "deleted")).toMatchObject({ namespace: dfCut.namespace, lease: dfCut.leases[0]?.id, client: "cli" });
    expect(await listLeases(lab, dfCut.namespace)).toEqual([]);
  });
});

describe("the server's log", () => {
  it("writes one start-up line and no line per request", async () => {
    const server = await startServer([...on(httpCut), "--log.level=info"]);
    servers.push(server);
    for (const path of ["/metrics", "/", "/api/v1/inventory", "/healthz", "/nope"]) await fetch(`${server.base}${path}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const written = lines(server.log()).map(parseLogfmt);
    const started = written.filter((l) => l.msg === "containerd-orphan-exporter started");
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ level: "info", address: `127.0.0.1:${server.port}`, containerd: lab.socket, admin: "off", prune_interval: "off" });
    expect(started[0]?.revision).toMatch(/^([0-9a-f]{40}|unknown)$/);
    expect(ISO.test(started[0]?.ts ?? "")).toBe(true);
    expect(written.filter((l) => /request/.test(l.msg ?? ""))).toEqual([]);
    expect(written.map((l) => l.msg)).toEqual(["containerd-orphan-exporter started", "containerd is reachable"]);
  });

  it("warns once at start-up about selected namespaces containerd does not have", async () => {
    const server = await startServer([`--containerd.address=${lab.socket}`, `--containerd.namespaces=nope-ns,${httpCut.namespace}`]);
    servers.push(server);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const warned = lines(server.log()).map(parseLogfmt).filter((l) => l.level === "warn");
    expect(warned).toHaveLength(1);
    expect(warned[0]?.msg).toMatch(new RegExp(`^--containerd\\.namespaces: containerd at \\S+ has no namespace "nope-ns"; it has: .*${httpCut.namespace}`));
  });

  it("logs a prune that cannot reach containerd as one line without a stack, in JSON when asked", async () => {
    const server = await startServer(["--containerd.address=/nonexistent/containerd.sock", "--log.format=json"], { ADMIN_TOKEN: TOKEN });
    servers.push(server);
    const res = await fetch(`${server.base}/admin/prune`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(502);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const records = lines(server.log()).map((l) => JSON.parse(l) as Record<string, unknown>);
    const failed = records.filter((r) => r.msg === "prune failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: "error", err: expect.stringMatching(/^containerd did not answer; nothing was pruned: no containerd socket/) });
    expect(server.log()).not.toMatch(/"stack"|\n\s+at /);
    expect(records.every((r) => typeof r.ts === "string" && ISO.test(r.ts))).toBe(true);
  });

  it("keeps audit lines under --log.level=warn, and counts a prune of the prune command sent with --admin.url as trigger=cli", async () => {
    const server = await startServer([...on(remoteCut), "--log.level=warn", "--prune.confirm-window=0s", "--lease.stale-after=0s", "--ingest.idle-after=0s"], {
      ADMIN_TOKEN: TOKEN,
    });
    servers.push(server);
    const r = await runCli(["prune", `--admin.url=${server.base}`], { ADMIN_TOKEN: TOKEN });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Prune finished\.\n {2}lease .*: deleted/);
    const written = lines(server.log()).map(parseLogfmt);
    expect(written.find((l) => l.audit === "lease-delete" && l.outcome === "deleted")).toMatchObject({ lease: remoteCut.leases[0]?.id, namespace: remoteCut.namespace });
    expect(written.some((l) => l.msg === "containerd-orphan-exporter started")).toBe(false); // info: below warn
    const metrics = parseExposition(await (await fetch(`${server.base}/metrics`)).text());
    expect(sample(metrics, "containerd_prune_runs_total", { result: "success", trigger: "cli" })).toBe(1);
    expect(sample(metrics, "containerd_prune_runs_total", { result: "success", trigger: "http" })).toBe(0);
    expect(sample(metrics, "containerd_prune_leases_deleted_total", { trigger: "cli" })).toBe(1);

    const refused = await runCli(["prune", `--admin.url=${server.base}`], { ADMIN_TOKEN: "a-wrong-but-well-formed-token" });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`containerd-orphan-exporter: the exporter at ${server.base}/admin/prune answered 401: unauthorized: invalid authorization header\n`);
  });
});
