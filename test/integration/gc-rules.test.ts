// containerd's GC rules, version by version, against the real daemon: for each rule a scenario
// built through containerd's own API, a prune, and the disk. What the prune predicted must be
// what left the disk, and what a rule keeps must still be there, its data re-read and hashed.
// Runs on whatever LAB_CONTAINERD selects; each case asserts what its version does.
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SeedClient } from "../../bench/grpc.js";
import { ContainerdClient } from "../../src/containerd/client.js";
import { LABEL } from "../../src/inventory/states.js";
import { listImages } from "../lab/inspect.js";
import { startLab, type Lab } from "../lab/lab.js";
import { selectRuntimes } from "../lab/runtimes.js";
import { classifiedNow } from "../support/classified.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { createSandbox as createSandboxIn } from "../support/sandbox.js";
import { blobFileDigest, expectPredictedIsDrop, fileDigest, injectPrune, measuredPrune } from "../support/prune-check.js";

const TOKEN = "gc-rules-admin-token";
const HOUR = 3600_000;
const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";

let lab: Lab;
let seed: SeedClient;
let client: ContainerdClient;
let t: TestApp;
let major: 1 | 2;

function randomBlob(size: number) {
  const data = randomBytes(size);
  return { data, digest: `sha256:${createHash("sha256").update(data).digest("hex")}`, size };
}

/** A lease that expires in a day: stale under leaseStaleAfter 0s, never expired. */
async function dayLease(ns: string, id: string): Promise<void> {
  await seed.createLease(ns, id, { [LABEL.expire]: rfc3339(Date.now() + 24 * HOUR) });
}

async function writeBlob(ns: string, lease: string | undefined, size: number, labels: Record<string, string> = {}) {
  const blob = randomBlob(size);
  await seed.writeBlob(ns, `blob-${blob.digest}`, blob.data, blob.digest, labels, lease ? { lease } : {});
  return blob;
}

/** An active snapshot with no parent and a file of `size` random bytes written into it; returns the file. */
async function snapshotWithFile(ns: string, key: string, size: number, lease?: string): Promise<string> {
  const mounts = await seed.prepare(ns, "overlayfs", key, "", {}, lease ? { lease } : {});
  const dir = mounts[0]?.source;
  if (!dir) throw new Error(`no mount for snapshot ${key}`);
  const path = join(dir, "written.bin");
  writeFileSync(path, randomBytes(size));
  return path;
}

/**
 * Leaves nothing behind for the next case. containerd sweeps blob files only in a collection
 * that removed some content metadata, so the throwaway lease holds a throwaway blob.
 */
async function collect(ns: string): Promise<void> {
  const id = `gc-${randomBytes(4).toString("hex")}`;
  await seed.createLease(ns, id, { [LABEL.expire]: rfc3339(Date.now() + HOUR) });
  await writeBlob(ns, id, 16);
  await seed.deleteLease(ns, id, true);
}

function prune(body: object) {
  return measuredPrune(t, TOKEN, lab.root, client, body);
}

const classified = () => classifiedNow(client);

const createSandbox = (ns: string, id: string, labels: Record<string, string>) => createSandboxIn(lab.socket, ns, id, labels);

beforeAll(async () => {
  lab = await startLab({ runtimes: { ...selectRuntimes(), docker: null } });
  major = lab.info().containerdMajor;
  seed = new SeedClient(lab.socket);
  client = new ContainerdClient({ address: lab.socket });
  t = await startTestApp([`--containerd.address=${lab.socket}`, "--prune.confirm-window=1s"], { ADMIN_TOKEN: TOKEN });
  // containerd's content GC fails on a root where no blob was ever committed: commit one that stays.
  await dayLease("anchor", "anchor");
  await writeBlob("anchor", "anchor", 1024);
}, 120_000);

afterAll(async () => {
  await t?.close();
  client?.close();
  seed?.close();
  await lab?.stop();
});

describe("every version: an ingest's expected digest keeps that blob's file", () => {
  it("the blob's metadata goes with its lease, its file stays while another namespace's ingest expects it", async () => {
    const x = await (async () => {
      await dayLease("exp-a", "pull");
      return writeBlob("exp-a", "pull", 2 << 20);
    })();
    // Another namespace's download of the same blob, cut half-way (no lease: its own expiry keeps it).
    await seed.writeIngest("exp-b", `layer-${x.digest}`, x.data.subarray(0, 1 << 20), x.size, x.digest);

    const m = await prune({ namespaces: ["exp-a"], leaseStaleAfter: "0s" });
    expect(m.report.leases.deleted.map((l) => l.id)).toEqual(["pull"]);
    expect(m.report.bytes.predicted.content).toBe(0);
    expectPredictedIsDrop(m);
    expect(blobFileDigest(lab.root, x.digest)).toBe(x.digest);

    await client.abortIngest("exp-b", `layer-${x.digest}`);
    await collect("exp-b");
    expect(blobFileDigest(lab.root, x.digest)).toBeNull();
  });
});

describe("every version: an ingest held only by expired leases is collected whatever its write time", () => {
  it("predicts the ingest freed though it was written a second ago, and the disk agrees", async () => {
    await seed.createLease("exp-c", "short", { [LABEL.expire]: rfc3339(Date.now() + 2000) });
    const y = randomBlob(3 << 20);
    await seed.writeIngest("exp-c", `layer-${y.digest}`, y.data.subarray(0, 2 << 20), y.size, y.digest, { lease: "short" });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const c = await classified();
    const ingest = c.namespaces.find((n) => n.name === "exp-c")?.ingests[0];
    expect([ingest?.state, ingest?.offset]).toEqual(["stale", 2 << 20]);

    const m = await prune({ namespaces: ["exp-c"] }); // default policy: the ingest is not idle
    expect(m.report.bytes.predicted.ingest).toBe(2 << 20);
    expect(m.drop.ingest).toBe(2 << 20);
    expectPredictedIsDrop(m);
  });
});

describe("every version: an active lease reports what it holds", () => {
  it("a pull in flight: its lease holds the download beside it", async () => {
    await dayLease("active-pull", "pull");
    const y = randomBlob(6 << 20);
    await seed.writeIngest("active-pull", `layer-${y.digest}`, y.data.subarray(0, 4 << 20), y.size, y.digest, { lease: "pull" });
    const lease = (await classified()).namespaces.find((n) => n.name === "active-pull")?.leases[0];
    expect([lease?.state, lease?.heldBytes]).toEqual(["active", 4 << 20]);
    await client.abortIngest("active-pull", `layer-${y.digest}`);
    await seed.deleteLease("active-pull", "pull", true);
  });
});

describe("every version: a stale lease holding a containerd container's snapshot", () => {
  it("is refused, counts as nothing reclaimable, and the container's layer and the lease's blob keep their data", async () => {
    await dayLease("ctr-snap", "old-pull");
    const blob = await writeBlob("ctr-snap", "old-pull", 2 << 20);
    const file = await snapshotWithFile("ctr-snap", "rw", 1 << 20, "old-pull");
    const fileHash = fileDigest(file);
    await seed.createContainer("ctr-snap", { id: "web", image: "", snapshotter: "overlayfs", snapshotKey: "rw" });

    const before = await classified();
    expect(before.namespaces.find((n) => n.name === "ctr-snap")?.leases[0]?.refusal).toBe("holds-container-snapshot");
    expect(before.reclaimable).toEqual({ content: 0, snapshot: 0, ingest: 0 });

    const m = await prune({ namespaces: ["ctr-snap"], leaseStaleAfter: "0s", leases: ["old-pull"] });
    expect(m.report.leases.skipped.map((l) => [l.id, l.reason])).toEqual([["old-pull", "holds-container-snapshot"]]);
    expect(m.report.leases.deleted).toEqual([]);
    expect(m.report.bytes.predicted.total).toBe(0);
    expectPredictedIsDrop(m);
    expect(blobFileDigest(lab.root, blob.digest)).toBe(blob.digest);
    expect(fileDigest(file)).toBe(fileHash);
  });
});

describe("every version: a Docker container's writable layer (the lease dockerd makes, no containerd container)", () => {
  it("is owned by docker-container and refused even when named; its layer keeps its file", async () => {
    const id = randomBytes(32).toString("hex");
    await seed.createLease("moby", id, {});
    const file = await snapshotWithFile("moby", id, 1 << 20, id);
    const hash = fileDigest(file);

    const dry = await injectPrune(t.app, TOKEN, { dryRun: true, leases: [id] });
    expect(dry.json().leases.skipped).toContainEqual(expect.objectContaining({ id, owner: "docker-container", reason: "owned-by-container" }));
    expect(dry.json().leases.deleted.map((l: { id: string }) => l.id)).not.toContain(id);

    const m = await prune({ namespaces: ["moby"], leases: [id] });
    expect(m.report.leases.skipped.map((l) => [l.id, l.state, l.reason])).toEqual([[id, "owned", "owned-by-container"]]);
    expect(m.report.bytes.predicted.total).toBe(0);
    expectPredictedIsDrop(m);
    expect(fileDigest(file)).toBe(hash);
    expect((await client.listLeases("moby")).map((l) => l.id)).toContain(id);
  });
});

describe("an image whose containerd.io/gc.expire has passed", () => {
  it("is a root on 1.x and keeps its target; on 2.x it is not, and deleting the lease frees its target and the image", async () => {
    await dayLease("img-exp", "pull");
    const z = await writeBlob("img-exp", "pull", 1 << 20);
    await seed.createImage("img-exp", "tmp", { media_type: MANIFEST, digest: z.digest, size: z.size }, { [LABEL.expire]: rfc3339(Date.now() - 60_000) });

    const m = await prune({ namespaces: ["img-exp"], leaseStaleAfter: "0s" });
    expect(m.report.leases.deleted.map((l) => l.id)).toEqual(["pull"]);
    expectPredictedIsDrop(m);
    if (major === 1) {
      expect(m.report.bytes.predicted.content).toBe(0);
      expect(blobFileDigest(lab.root, z.digest)).toBe(z.digest);
      expect((await listImages(lab, "img-exp")).map((i) => i.ref)).toEqual(["tmp"]);
    } else {
      expect(m.report.bytes.predicted.content).toBe(z.size);
      expect(blobFileDigest(lab.root, z.digest)).toBeNull();
      expect(await listImages(lab, "img-exp")).toEqual([]);
    }
  });
});

describe("images lease resources", () => {
  it("2.x: a lease that lists an expired image is refused (deleting it would remove the image); 1.x has no such resource", async () => {
    await dayLease("img-lease", "hold");
    const w = await writeBlob("img-lease", "hold", 1 << 20);
    await seed.createImage("img-lease", "tmp2", { media_type: MANIFEST, digest: w.digest, size: w.size }, { [LABEL.expire]: rfc3339(Date.now() - 60_000) });
    const add = seed.addResource("img-lease", "hold", { type: "images", id: "tmp2" });
    if (major === 1) {
      await expect(add).rejects.toThrow(/images|not supported|unimplemented|invalid/i);
      await collect("img-lease");
      return;
    }
    await add;
    expect(await client.listLeaseResources("img-lease", "hold")).toContainEqual({ type: "images", id: "tmp2" });
    const m = await prune({ namespaces: ["img-lease"], leaseStaleAfter: "0s", leases: ["hold"] });
    expect(m.report.leases.skipped.map((l) => [l.id, l.reason])).toEqual([["hold", "holds-image"]]);
    expect(m.report.bytes.predicted.total).toBe(0);
    expectPredictedIsDrop(m);
    expect(blobFileDigest(lab.root, w.digest)).toBe(w.digest);
    expect((await listImages(lab, "img-lease")).map((i) => i.ref)).toEqual(["tmp2"]);
  });
});

describe("gc.ref.image labels", () => {
  it("2.x: a blob's gc.ref.image reaches an expired image, so its lease is refused; 1.x: no edge, the image is a root anyway", async () => {
    await dayLease("img-ref", "hold");
    const v = await writeBlob("img-ref", "hold", 1 << 20);
    await seed.createImage("img-ref", "tmp3", { media_type: MANIFEST, digest: v.digest, size: v.size }, { [LABEL.expire]: rfc3339(Date.now() - 60_000) });
    const h = await writeBlob("img-ref", "hold", 4096, { [`${LABEL.refImage}.base`]: "tmp3" });

    const m = await prune({ namespaces: ["img-ref"], leaseStaleAfter: "0s" });
    expectPredictedIsDrop(m);
    if (major === 2) {
      expect(m.report.leases.skipped.map((l) => [l.id, l.reason])).toEqual([["hold", "holds-image"]]);
      expect(m.report.bytes.predicted.total).toBe(0);
      expect(blobFileDigest(lab.root, h.digest)).toBe(h.digest);
    } else {
      expect(m.report.leases.deleted.map((l) => l.id)).toEqual(["hold"]);
      expect(m.report.bytes.predicted.content).toBe(4096);
      expect(blobFileDigest(lab.root, h.digest)).toBeNull();
    }
    expect(blobFileDigest(lab.root, v.digest)).toBe(v.digest);
    expect((await listImages(lab, "img-ref")).map((i) => i.ref)).toEqual(["tmp3"]);
  });
});

describe("sandbox store objects", () => {
  it("1.6 has no sandbox store: the collector reads it as empty and the namespace stays complete", async () => {
    if (major !== 1 || !lab.info().containerdVersion.startsWith("1.6")) {
      expect(await client.listSandboxes("sbx-none")).toEqual([]);
      return;
    }
    await expect(client.listSandboxes("sbx-none")).rejects.toThrow(/UNIMPLEMENTED/);
    await dayLease("sbx-none", "l");
    const c = await classified();
    const ns = c.namespaces.find((n) => n.name === "sbx-none");
    expect([ns?.complete, ns?.sandboxes]).toEqual([true, []]);
    expect(c.inventory.collectors.find((r) => r.collector === "sandboxes")?.success).toBe(true);
  });

  it("1.7+/2.x: their labels are roots on 2.x only; a lease named by a sandbox is the sandbox's and refused", async () => {
    if (lab.info().containerdVersion.startsWith("1.6")) {
      // The store does not exist: nothing to record, and classification does not depend on it.
      await expect(createSandbox("sbx", "pod", {})).rejects.toThrow(/UNIMPLEMENTED/);
      return;
    }
    await dayLease("sbx", "pull");
    const s = await writeBlob("sbx", "pull", 1 << 20);
    await createSandbox("sbx", "pod", { [`${LABEL.refContent}.spec`]: s.digest });
    await seed.createLease("sbx", "pod", {});
    const own = await writeBlob("sbx", "pod", 8192);
    expect((await client.listSandboxes("sbx")).map((x) => x.id)).toEqual(["pod"]);

    const m = await prune({ namespaces: ["sbx"], leaseStaleAfter: "0s", leases: ["pod"] });
    expect(m.report.leases.skipped.map((l) => [l.id, l.owner, l.reason])).toEqual([["pod", "cri-sandbox", "owned-by-sandbox"]]);
    expect(m.report.leases.deleted.map((l) => l.id)).toEqual(["pull"]);
    expectPredictedIsDrop(m);
    expect(blobFileDigest(lab.root, own.digest)).toBe(own.digest);
    if (major === 2) {
      expect(m.report.bytes.predicted.content).toBe(0);
      expect(blobFileDigest(lab.root, s.digest)).toBe(s.digest);
    } else {
      expect(m.report.bytes.predicted.content).toBe(s.size);
      expect(blobFileDigest(lab.root, s.digest)).toBeNull();
    }
  });
});
