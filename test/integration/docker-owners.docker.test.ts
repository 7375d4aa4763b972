// Docker on the containerd image store (LAB_DOCKER=26.1.5 | 28.5.2): what it leaves, what it
// owns, and a prune that takes exactly what it predicted and nothing a Docker image, container,
// sandbox, gc.root object or owned lease needs. Its own lab: the disk is measured node-wide.
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SeedClient } from "../../bench/grpc.js";
import { ContainerdClient } from "../../src/containerd/client.js";
import { LABEL } from "../../src/inventory/states.js";
import { pushImage, type PushedImage } from "../lab/images.js";
import { startLab, type Lab } from "../lab/lab.js";
import { startThrottleProxy } from "../lab/proxy.js";
import { waitFor } from "../lab/wait.js";
import { classifiedNow } from "../support/classified.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { parseExposition, select } from "../support/exposition.js";
import { blobFileDigest, expectPredictedIsDrop, fileDigest, injectPrune, measuredPrune } from "../support/prune-check.js";
import { spawnDocker } from "../lab/docker.js";
import { createSandbox } from "../support/sandbox.js";

const TOKEN = "docker-owners-token";
const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
const MOBY = "moby";

let lab: Lab;
let t: TestApp;
let client: ContainerdClient;
let seed: SeedClient;

const docker = (args: string[], timeoutMs = 60_000) => lab.dockerd!.docker(args, timeoutMs);
const busybox = () => lab.info().docker!.busyboxImage;

/** A running container that wrote `mib` MiB of random data to /data/f; returns its id and the file's md5. */
async function busyContainer(name: string, mib: number): Promise<{ id: string; md5: string }> {
  // Writes the file on its first start only (a restart must find the same bytes), then marks it done.
  const write = `dd if=/dev/urandom of=/data/f bs=1048576 count=${mib} 2>/dev/null && sync && echo done > /data/done`;
  const script = `test -f /data/done || { ${write}; }; trap 'exit 0' TERM INT; while :; do sleep 0.2; done`;
  const id = (await docker(["run", "-d", "--network", "none", "--name", name, busybox(), script])).trim();
  await waitFor(`${name} to write its file`, () => docker(["exec", name, "test", "-f", "/data/done"]).then(() => true, () => false), {
    timeoutMs: 30_000,
  });
  return { id, md5: await containerMd5(name) };
}

async function containerMd5(name: string): Promise<string> {
  try {
    return (await docker(["exec", name, "md5sum", "/data/f"])).trim().split(/\s+/)[0] ?? "";
  } catch {
    return "";
  }
}

/** `docker pull` through a throttling proxy, interrupted (SIGINT, as Ctrl-C) once `bytes` of its layers are down. */
async function cutPull(image: PushedImage, bytes: number): Promise<void> {
  const proxy = await startThrottleProxy({ target: lab.registry, bytesPerSecond: 1 << 20 });
  const pull = spawnDocker(lab.info(), ["pull", `${proxy.address}/${image.repo}:${image.tag}`]);
  try {
    await waitFor(
      "the pull to download part of its layers",
      async () => (await client.listIngests(MOBY)).reduce((sum, i) => sum + i.offset, 0) >= bytes,
      { timeoutMs: 60_000, describe: () => pull.output() },
    );
    proxy.setRate(0);
    await pull.interrupt();
  } finally {
    await proxy.stop();
  }
}

const classified = () => classifiedNow(client);

function prune(body: object) {
  return measuredPrune(t, TOKEN, lab.root, client, body);
}

beforeAll(async () => {
  lab = await startLab({ withDocker: true });
  client = new ContainerdClient({ address: lab.socket });
  seed = new SeedClient(lab.socket);
  t = await startTestApp([`--containerd.address=${lab.socket}`, "--prune.confirm-window=1s"], { ADMIN_TOKEN: TOKEN });
}, 180_000);

afterAll(async () => {
  await t?.close();
  client?.close();
  seed?.close();
  await lab?.stop();
}, 120_000);

describe(`Docker ${process.env.LAB_DOCKER ?? ""} leases`, () => {
  it("a default prune frees what it predicted, and every image, container, sandbox, gc.root object and owned lease keeps its data", async () => {
    const major = lab.info().containerdMajor;
    // Docker: a running container that wrote a file, a created one, the busybox image, a cut pull.
    const web = await busyContainer("web", 3);
    await docker(["create", "--network", "none", "--name", "idle", busybox()]);
    const cut = await pushImage(lab, { repo: "owners-cut", tag: "1", layers: [{ size: 4 << 20 }, { size: 3 << 20 }] });
    await cutPull(cut, 2 << 20);
    // Beside Docker: a gc.root blob and a BuildKit-style cache lease (owned) in moby, a containerd
    // container in its own namespace, and on containerd >= 1.7 a sandbox whose labels reference a blob.
    const rooted = randomBytes(1 << 20);
    const rootedDigest = `sha256:${createHash("sha256").update(rooted).digest("hex")}`;
    await seed.writeBlob(MOBY, "rooted", rooted, rootedDigest, { [LABEL.root]: new Date().toISOString() });
    // BuildKit stamps gc.flat with a time (containerd drops labels with empty values).
    await seed.createLease(MOBY, "cache-rec", { [LABEL.flat]: new Date().toISOString() });
    const cache = randomBytes(1 << 20);
    const cacheDigest = `sha256:${createHash("sha256").update(cache).digest("hex")}`;
    await seed.writeBlob(MOBY, "cache", cache, cacheDigest, {}, { lease: "cache-rec" });
    // The container first: an active snapshot nothing references is the next collection's to take
    // (Docker's own writes here trigger collections at any moment).
    await seed.createContainer("plain", { id: "c1", image: "", snapshotter: "overlayfs", snapshotKey: "rw" });
    const mounts = await seed.prepare("plain", "overlayfs", "rw", "");
    const plainFile = join(mounts[0]!.source, "f");
    writeFileSync(plainFile, randomBytes(1 << 20));
    const plainHash = fileDigest(plainFile);
    // A pod sandbox whose labels reference a blob that a stale lease also holds: a root on 2.x only.
    await seed.createLease("pods", "pull", { [LABEL.expire]: rfc3339(Date.now() + 24 * 3600_000) });
    const spec = randomBytes(1 << 20);
    const specDigest = `sha256:${createHash("sha256").update(spec).digest("hex")}`;
    await seed.writeBlob("pods", "spec", spec, specDigest, {}, { lease: "pull" });
    await createSandbox(lab.socket, "pods", "pod-1", { [`${LABEL.refContent}.spec`]: specDigest });

    const before = await classified();
    const moby = before.namespaces.find((n) => n.name === MOBY)!;
    const cutLeases = moby.leases.filter((l) => l.owner === (lab.info().dockerVersion === "28.5.2" ? "docker-pull" : "docker"));
    expect(cutLeases.length, JSON.stringify(moby.leases.map((l) => [l.id, l.owner, l.state]))).toBe(1);
    expect(moby.leases.find((l) => l.id === web.id)).toMatchObject({ owner: "docker-container", state: "owned", refusal: "owned-by-container" });
    expect(moby.leases.find((l) => l.id === "cache-rec")).toMatchObject({ owner: "buildkit", state: "owned" });
    // Everything an image, a container, gc.root or an owned lease holds, with the sha256 of its file.
    const kept = before.namespaces.flatMap((ns) => ns.content.filter((b) => b.state === "in_use" || b.state === "pinned").map((b) => b.digest));
    expect(kept).toEqual(expect.arrayContaining([rootedDigest, cacheDigest]));

    const m = await prune({ leaseStaleAfter: "0s", ingestIdleAfter: "0s" });
    expect(m.report.leases.deleted.map((l) => `${l.namespace}/${l.id}`).sort()).toEqual([`${MOBY}/${cutLeases[0]!.id}`, "pods/pull"]);
    expect(m.report.bytes.predicted.total).toBeGreaterThan(2 << 20);
    expectPredictedIsDrop(m);

    for (const digest of kept) expect(blobFileDigest(lab.root, digest), digest).toBe(digest);
    expect(fileDigest(plainFile)).toBe(plainHash);
    expect((await client.listLeases(MOBY)).map((l) => l.id)).toEqual(expect.arrayContaining([web.id, "cache-rec"]));
    expect(await containerMd5("web")).toBe(web.md5);
    await docker(["restart", "-t", "1", "web"]);
    expect(await containerMd5("web")).toBe(web.md5);
    await docker(["start", "idle"]);
    expect((await docker(["inspect", "-f", "{{.State.Running}}", "idle"])).trim()).toBe("true");
    expect((await docker(["run", "--rm", "--network", "none", busybox(), "echo ok"])).trim()).toBe("ok");
    expect((await client.listSandboxes("pods")).map((x) => x.id)).toEqual(["pod-1"]);
    // containerd 2.x keeps what a sandbox's labels reference; 1.7 writes sandboxes where its GC does not look.
    expect(blobFileDigest(lab.root, specDigest)).toBe(major === 2 ? specDigest : null);
    await docker(["rm", "-f", "idle"]);
  }, 240_000);

  it("refuses a named running container's lease (owned-by-container); the container restarts with its file", async () => {
    const app = await busyContainer("named", 2);
    const dry = await injectPrune(t.app, TOKEN, { dryRun: true, leases: [app.id] });
    expect(dry.json().leases.skipped).toContainEqual(expect.objectContaining({ id: app.id, owner: "docker-container", reason: "owned-by-container" }));
    const m = await prune({ leases: [app.id] });
    expect(m.report.leases.skipped).toContainEqual(expect.objectContaining({ id: app.id, reason: "owned-by-container" }));
    expect(m.report.leases.deleted.map((l) => l.id)).not.toContain(app.id);
    expectPredictedIsDrop(m);
    await docker(["restart", "-t", "1", "named"]);
    expect(await containerMd5("named")).toBe(app.md5);
    await docker(["rm", "-f", "named"]);
  }, 180_000);

  it("a cancelled docker save: on 26 a leaked lease (no owner) a default prune leaves and a named one frees; on 28 none", async () => {
    const big = await pushImage(lab, { repo: "owners-save", tag: "1", layers: [{ size: 24 << 20 }] });
    await docker(["pull", "--quiet", big.ref], 120_000);
    const leasesBefore = new Set((await client.listLeases(MOBY)).map((l) => l.id));
    const save = spawnDocker(lab.info(), ["save", big.ref]);
    await waitFor("docker save to stream", () => save.output().length > 1 << 20 || !save.running(), { timeoutMs: 60_000, intervalMs: 20 });
    await save.interrupt();
    await docker(["rmi", big.ref]);
    const c = await classified();
    const left = c.namespaces.find((n) => n.name === MOBY)!.leases.filter((l) => !leasesBefore.has(l.id));
    if (lab.info().dockerVersion === "28.5.2") {
      expect(left.filter((l) => l.state === "leaked")).toEqual([]);
      return;
    }
    expect(left.map((l) => [l.owner, l.state]), JSON.stringify(left)).toEqual([["unknown", "leaked"]]);
    const leak = left[0]!;
    expect(leak.heldBytes).toBeGreaterThan(20 << 20);
    const defaults = await prune({ leaseStaleAfter: "0s", ingestIdleAfter: "0s" });
    expect(defaults.report.leases.deleted.map((l) => l.id)).not.toContain(leak.id);
    expectPredictedIsDrop(defaults);
    const named = await prune({ namespaces: [MOBY], leases: [leak.id] });
    expect(named.report.leases.deleted.map((l) => [l.id, l.state, l.owner])).toEqual([[leak.id, "leaked", "unknown"]]);
    expect(named.report.bytes.predicted.total).toBeGreaterThan(20 << 20);
    expectPredictedIsDrop(named);
    expect((await docker(["run", "--rm", "--network", "none", busybox(), "echo ok"])).trim()).toBe("ok");
  }, 240_000);

  it("ten busy containers do not hide a stale lease from containerd_lease_held_bytes", async () => {
    for (let i = 0; i < 10; i++) await busyContainer(`busy-${i}`, 5);
    const cut = await pushImage(lab, { repo: "owners-busy", tag: "1", layers: [{ size: 6 << 20 }] });
    await cutPull(cut, 3 << 20);
    const scrape = await startTestApp([`--containerd.address=${lab.socket}`, "--lease.stale-after=0s", "--ingest.idle-after=0s"]);
    try {
      const samples = parseExposition((await scrape.app.inject({ url: "/metrics" })).body);
      const held = select(samples, "containerd_lease_held_bytes", { namespace: MOBY });
      expect(held.map((s) => s.labels.owner)).not.toContain("docker-container");
      const stale = held.filter((s) => s.labels.state === "stale");
      expect(stale.length, JSON.stringify(held)).toBe(1);
      // Smaller than every container's layer: ranked by bytes alone it would not make the top ten.
      expect(stale[0]!.value).toBeGreaterThan(1 << 20);
      expect(stale[0]!.value).toBeLessThan(5 << 20);
      expect(select(samples, "containerd_leases", { namespace: MOBY, state: "owned", owner: "docker-container" })[0]?.value).toBeGreaterThanOrEqual(10);
    } finally {
      await scrape.close();
    }
  }, 240_000);
});
