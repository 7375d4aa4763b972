// BuildKit as Docker runs it (LAB_DOCKER=26.1.5 | 28.5.2, `docker build` through the buildx
// plugin): a finished build and one cut with Ctrl-C mid-RUN leave cache records, their views and
// compression variants, temporary leases and build history. None of it is leaked, a prune takes
// only the temporary leases of the build that is over, and the next build finds every step cached.
// Its own lab: the disk is measured node-wide.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContainerdClient } from "../../src/containerd/client.js";
import { InventoryReader } from "../../src/inventory/read.js";
import { LABEL } from "../../src/inventory/states.js";
import { BUILDKIT_HISTORY_NAMESPACE, BUILDKIT_TEMPORARY_LABEL } from "../../src/inventory/owners/buildkit.js";
import { spawnDocker } from "../lab/docker.js";
import { startLab, type Lab } from "../lab/lab.js";
import { waitFor } from "../lab/wait.js";
import { classifiedNow } from "../support/classified.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { parseExposition, select } from "../support/exposition.js";
import { expectPredictedIsDrop, measuredPrune, postPrune } from "../support/prune-check.js";

const TOKEN = "buildkit-owners-token";
const MOBY = "moby";
const BUILD_NAMESPACES = [MOBY, BUILDKIT_HISTORY_NAMESPACE];

let lab: Lab;
let t: TestApp;
let client: ContainerdClient;
let contexts: string;

const docker = (args: string[], timeoutMs = 120_000) => lab.dockerd!.docker(args, timeoutMs);

/** A build context holding only `dockerfile`; RUN steps get no network (the lab's dockerd has no bridge). */
function context(name: string, dockerfile: string): string {
  const dir = mkdtempSync(join(contexts, `${name}-`));
  writeFileSync(join(dir, "Dockerfile"), dockerfile);
  return dir;
}
const build = (ctx: string, tag: string) => ["build", "--network=none", "--progress=plain", "-t", tag, ctx];

/** The build cache records `docker buildx du` lists, by id. */
async function cacheRecords(): Promise<string[]> {
  const lines = (await docker(["buildx", "du"])).split("\n").slice(1);
  return lines.map((l) => l.split(/\s+/)[0]?.replace(/\*$/, "") ?? "").filter((id) => /^[a-z0-9]{25}$/.test(id)).sort();
}

/** What BuildKit's namespaces hold: lease ids and blob digests. */
async function buildState(): Promise<string> {
  const inventory = await new InventoryReader(client).read(Date.now() + 30_000);
  const mine = inventory.namespaces.filter((ns) => BUILD_NAMESPACES.includes(ns.name));
  return JSON.stringify(mine.map((ns) => [ns.name, ns.leases.map((l) => l.id).sort(), ns.content.map((b) => b.digest).sort()]));
}

/** BuildKit writes a cancelled build's history for a while after the CLI exits: wait until two reads a second apart agree. */
async function buildKitSettled(): Promise<void> {
  let last = "";
  await waitFor("BuildKit to finish writing after the cut build", async () => {
    const now = await buildState();
    const same = now === last;
    last = now;
    return same;
  }, { timeoutMs: 60_000, intervalMs: 1_000 });
}

const classified = () => classifiedNow(client);

beforeAll(async () => {
  contexts = mkdtempSync(join(tmpdir(), "buildkit-test-"));
  lab = await startLab({ withDocker: true });
  client = new ContainerdClient({ address: lab.socket });
  t = await startTestApp([`--containerd.address=${lab.socket}`, "--prune.confirm-window=1s"], { ADMIN_TOKEN: TOKEN });
}, 180_000);

afterAll(async () => {
  await t?.close();
  client?.close();
  await lab?.stop();
  if (contexts) rmSync(contexts, { recursive: true, force: true });
}, 120_000);

describe(`BuildKit in Docker ${process.env.LAB_DOCKER ?? ""}`, () => {
  it("leaves nothing leaked after a finished and a cut build; a prune takes only the cut build's temporary leases, and the cache stays whole", async () => {
    const busybox = lab.info().docker!.busyboxImage;
    const finished = context(
      "finished",
      `FROM ${busybox}\nRUN dd if=/dev/urandom of=/big bs=1048576 count=3 2>/dev/null && md5sum /big > /big.md5\nRUN echo two > /two\n`,
    );
    await docker(build(finished, "lab/built:1"));
    const md5 = (await docker(["run", "--rm", "--network", "none", "lab/built:1", "cat /big.md5"])).trim();
    expect(md5).toMatch(/^[0-9a-f]{32}\s+\/big$/);

    // Ctrl-C while a RUN step is writing: its container and snapshot are mid-use.
    const cutCtx = context("cut", `FROM ${busybox}\nRUN dd if=/dev/urandom of=/half bs=1048576 count=2 2>/dev/null && echo written && sleep 120\n`);
    const cut = spawnDocker(lab.info(), build(cutCtx, "lab/cut:1"));
    await waitFor("the cut build's RUN step to write", async () => cut.output().includes("written"), { timeoutMs: 60_000, describe: () => cut.output() });
    await cut.interrupt();
    await buildKitSettled();

    const before = await classified();
    const leases = before.namespaces.filter((ns) => BUILD_NAMESPACES.includes(ns.name)).flatMap((ns) => ns.leases.map((l) => ({ ns: ns.name, ...l })));
    const listing = JSON.stringify(leases.map((l) => [l.ns, l.id, l.owner, l.state, Object.keys(l.labels)]));
    // Records, their -view and -variants leases and the history: BuildKit's, kept on purpose.
    const records = leases.filter((l) => LABEL.flat in l.labels);
    const variants = leases.filter((l) => l.id.endsWith("-variants"));
    expect(records.length, listing).toBeGreaterThanOrEqual(3);
    expect(variants.length, listing).toBeGreaterThanOrEqual(1);
    for (const l of [...records, ...variants, ...leases.filter((x) => x.ns === BUILDKIT_HISTORY_NAMESPACE)]) {
      expect([l.id, l.owner, l.state], listing).toEqual([l.id, "buildkit", "owned"]);
    }
    expect(leases.filter((l) => l.state === "leaked"), listing).toEqual([]);
    const metrics = parseExposition((await t.app.inject({ url: "/metrics" })).body);
    const leakedSeries = select(metrics, "containerd_leases").filter((s) => s.labels.state === "leaked" && s.value > 0);
    expect(leakedSeries).toEqual([]);

    const recordsBefore = await cacheRecords();
    expect(recordsBefore.length).toBeGreaterThanOrEqual(3);
    const m = await measuredPrune(t, TOKEN, lab.root, client, { leaseStaleAfter: "0s", ingestIdleAfter: "0s" });
    const deleted = m.report.leases.deleted;
    // The cut build's temporary leases stay until their 5 min expiry (3 of them on 26.1.5 and 28.5.2).
    expect(deleted.length, listing).toBeGreaterThan(0);
    for (const l of deleted) expect([l.namespace, l.id, BUILDKIT_TEMPORARY_LABEL in (l.labels ?? {})], listing).toEqual([MOBY, l.id, true]);
    expectPredictedIsDrop(m);

    // Every record is still there, and a new build of the same file takes both RUN steps from it.
    expect(await cacheRecords()).toEqual(expect.arrayContaining(recordsBefore));
    const again = await spawnDocker(lab.info(), build(finished, "lab/built:2")).done(120_000);
    expect(again.match(/ CACHED$/gm)?.length ?? 0, again).toBeGreaterThanOrEqual(2);
    expect((await docker(["run", "--rm", "--network", "none", "lab/built:2", "md5sum -c /big.md5"])).trim()).toBe("/big: OK");
  }, 300_000);

  it("refuses a named compression-variants lease: BuildKit's record still lists it", async () => {
    const moby = (await classified()).namespaces.find((ns) => ns.name === MOBY)!;
    const variants = moby.leases.find((l) => l.id.endsWith("-variants"));
    expect(variants).toBeDefined();
    const report = await postPrune(t, TOKEN, { namespaces: [MOBY], leases: [variants!.id] });
    expect(report.leases.deleted).toEqual([]);
    expect(report.leases.skipped).toContainEqual(expect.objectContaining({ id: variants!.id, owner: "buildkit", reason: "owned" }));
    expect((await client.listLeases(MOBY)).map((l) => l.id)).toContain(variants!.id);
  }, 120_000);
});
