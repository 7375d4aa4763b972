// Tests of the lab itself: each scenario must leave exactly what it claims, checked through ctr.
// Every test uses its own namespace and its own image (blobs are shared across namespaces, so a
// download scenario needs blobs the lab has never seen).
import { createServer, connect, type AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, inject, it } from "vitest";
import { startContainerd } from "./containerd.js";
import { ctr } from "./ctr.js";
import { pushImage, type PushedImage } from "./images.js";
import {
  listContainerIds,
  listContent,
  listImages,
  listIngests,
  listLeases,
  listSnapshots,
  snapshotUsage,
  type LeaseRow,
} from "./inspect.js";
import { chainIds } from "./oci.js";
import { startThrottleProxy } from "./proxy.js";
import {
  cancelledDownload,
  cancelledUnpack,
  completePull,
  createContainer,
  createLease,
  deleteLease,
  uniqueNamespace,
} from "./scenarios.js";

const lab = inject("lab");
const MiB = 1 << 20;
const HOUR = 3_600_000;
const GC_EXPIRE = "containerd.io/gc.expire";
// ctr's generated lease ids: "<nanoseconds mod 1e9>-<4 random base64url characters>".
const GENERATED_LEASE_ID = /^\d+-[A-Za-z0-9_-]{4}$/;

function expectExpiry(lease: LeaseRow, aheadMs: number): void {
  const expire = lease.labels[GC_EXPIRE];
  expect(expire, `lease ${lease.id} has ${GC_EXPIRE}`).toBeDefined();
  const ahead = Date.parse(expire!) - Date.now();
  expect(ahead).toBeGreaterThan(aheadMs - 5 * 60_000);
  expect(ahead).toBeLessThanOrEqual(aheadMs + 1_000);
}

function allBlobs(image: PushedImage): string[] {
  return [image.manifestDigest, image.configDigest, ...image.layerDigests].sort();
}

function chainOf(image: PushedImage): string[] {
  return chainIds(image.layers.map((l) => l.diffId));
}

describe("cancelled download", () => {
  it("leaves a 24h lease, partial layer ingests and the committed manifest and config", async () => {
    const ns = uniqueNamespace("download");
    const image = await pushImage(lab, { repo: "lab/download", tag: ns, layers: [{ size: 3 * MiB }, { size: 2 * MiB }] });
    const left = await cancelledDownload(lab, ns, image);

    const leases = await listLeases(lab, ns);
    expect(leases.map((l) => l.id)).toEqual(left.leases.map((l) => l.id));
    expect(leases).toHaveLength(1);
    expect(leases[0]!.id).toMatch(GENERATED_LEASE_ID);
    expectExpiry(leases[0]!, 24 * HOUR);

    const active = await listIngests(lab, ns);
    expect(active.map((a) => a.ref).sort()).toEqual(image.layerDigests.map((d) => `layer-${d}`).sort());
    for (const a of active) expect(a.approxOffset).toBeGreaterThan(0);
    expect(left.ingests).toHaveLength(2);
    for (const ingest of left.ingests) {
      expect(ingest.offset).toBeGreaterThan(0);
      expect(ingest.offset).toBeLessThan(ingest.total);
      expect(ingest.total).toBe(image.layers.find((l) => l.digest === ingest.digest)!.size);
    }

    expect(await listImages(lab, ns)).toEqual([]);
    const content = (await listContent(lab, ns)).map((c) => c.digest).sort();
    expect(content).toEqual([image.manifestDigest, image.configDigest].sort());
    expect(left.committed.sort()).toEqual(content);
  });

  it("is reclaimed by `ctr leases rm --sync`", async () => {
    const ns = uniqueNamespace("reclaim");
    const image = await pushImage(lab, { repo: "lab/reclaim", tag: ns, layers: [{ size: 2 * MiB }] });
    const left = await cancelledDownload(lab, ns, image);
    await deleteLease(lab, ns, left.leases[0]!.id, { sync: true });

    expect(await listLeases(lab, ns)).toEqual([]);
    expect(await listContent(lab, ns)).toEqual([]);
    expect(await listIngests(lab, ns)).toEqual([]);
  });
});

describe("cancelled unpack", () => {
  const layers = [{ size: MiB }, { size: MiB }, { size: 2 * MiB, files: 4, gated: true }];

  it("leaves a 24h lease, committed snapshots, an active extract snapshot, all blobs and the image", async () => {
    const ns = uniqueNamespace("unpack");
    const image = await pushImage(lab, { repo: "lab/unpack", tag: ns, layers });
    const left = await cancelledUnpack(lab, ns, image);
    const chain = chainOf(image);

    const leases = await listLeases(lab, ns);
    expect(leases.map((l) => l.id)).toEqual(left.leases.map((l) => l.id));
    expect(leases).toHaveLength(1);
    expectExpiry(leases[0]!, 24 * HOUR);

    const snapshots = await listSnapshots(lab, ns);
    const committed = snapshots.filter((s) => s.kind === "Committed");
    expect(committed.map((s) => s.key).sort()).toEqual([chain[0], chain[1]].sort());
    expect(committed.find((s) => s.key === chain[1])!.parent).toBe(chain[0]);
    const activeSnapshots = snapshots.filter((s) => s.kind === "Active");
    expect(activeSnapshots).toEqual([left.extract]);
    expect(left.extract.key).toMatch(new RegExp(`^extract-\\d+-\\S+ ${chain[2]}$`));
    expect(left.extract.parent).toBe(chain[1]);

    // The gate let part of the layer through, so the active snapshot holds partial data.
    const usage = (await snapshotUsage(lab, ns)).find((u) => u.key === left.extract.key);
    expect(usage!.bytes).toBeGreaterThan(0);
    expect(usage!.bytes).toBeLessThan(image.layers[2]!.contentBytes);

    expect((await listContent(lab, ns)).map((c) => c.digest).sort()).toEqual(allBlobs(image));
    expect(await listIngests(lab, ns)).toEqual([]);
    expect((await listImages(lab, ns)).map((i) => i.ref)).toEqual([image.ref]);
  });

  it("hits the moment every time (10 in a row)", async () => {
    const image = await pushImage(lab, { repo: "lab/unpack-again", tag: "1", layers });
    const chain = chainOf(image);
    for (let run = 0; run < 10; run++) {
      const ns = uniqueNamespace(`unpack-${run}`);
      const left = await cancelledUnpack(lab, ns, image);
      expect(left.committed.map((s) => s.key).sort()).toEqual([chain[0], chain[1]].sort());
      expect(left.extract.key.endsWith(` ${chain[2]}`)).toBe(true);
      expect(left.leases).toHaveLength(1);
    }
  });
});

describe("complete pull", () => {
  it("leaves the image, one committed snapshot per layer, all blobs and no lease", async () => {
    const ns = uniqueNamespace("complete");
    const image = await pushImage(lab, { repo: "lab/complete", tag: ns, layers: [{ size: MiB }, { size: MiB / 2 }] });
    const pulled = await completePull(lab, ns, image);
    const chain = chainOf(image);

    expect(await listLeases(lab, ns)).toEqual([]);
    expect((await listImages(lab, ns)).map((i) => i.ref)).toEqual([image.ref]);
    expect(pulled.snapshots.map((s) => s.key).sort()).toEqual([...chain].sort());
    expect((await listSnapshots(lab, ns)).every((s) => s.kind === "Committed")).toBe(true);
    const content = await listContent(lab, ns);
    expect(content.map((c) => c.digest).sort()).toEqual(allBlobs(image));
    // The unpacker ties the snapshots to the image through a label on the config blob.
    const config = content.find((c) => c.digest === image.configDigest)!;
    expect(config.labels["containerd.io/gc.ref.snapshot.overlayfs"]).toBe(chain[1]);

    const usage = new Map((await snapshotUsage(lab, ns)).map((u) => [u.key, u.bytes]));
    image.layers.forEach((layer, i) => {
      expect(usage.get(chain[i]!)).toBeGreaterThanOrEqual(layer.contentBytes);
      expect(usage.get(chain[i]!)).toBeLessThan(layer.contentBytes + 64 * 1024);
    });
  });

  it("lets a container hold an active snapshot named after it", async () => {
    const ns = uniqueNamespace("container");
    const image = await pushImage(lab, { repo: "lab/container", tag: ns, layers: [{ size: MiB }] });
    await completePull(lab, ns, image);
    const container = await createContainer(lab, ns, image.ref, "web-1");

    expect(await listContainerIds(lab, ns)).toEqual(["web-1"]);
    expect(container).toMatchObject({ id: "web-1", image: image.ref, snapshotter: "overlayfs", snapshotKey: "web-1" });
    const snapshot = (await listSnapshots(lab, ns)).find((s) => s.key === "web-1");
    expect(snapshot).toEqual({ key: "web-1", parent: chainOf(image)[0], kind: "Active" });
  });
});

describe("leases", () => {
  it("creates permanent, default (24h) and short leases with labels", async () => {
    const ns = uniqueNamespace("leases");
    const permanent = await createLease(lab, ns, { id: "keep-forever", expiresIn: null, labels: { owner: "lab", "x.y/z": "1" } });
    const byDefault = await createLease(lab, ns);
    const hourly = await createLease(lab, ns, { expiresIn: 3600 });

    const leases = new Map((await listLeases(lab, ns)).map((l) => [l.id, l]));
    expect(leases.size).toBe(3);
    expect(leases.get("keep-forever")!.labels).toEqual({ owner: "lab", "x.y/z": "1" });
    expect(permanent.labels[GC_EXPIRE]).toBeUndefined();
    expect(byDefault.id).toMatch(GENERATED_LEASE_ID);
    expectExpiry(leases.get(byDefault.id)!, 24 * HOUR);
    expectExpiry(leases.get(hourly.id)!, HOUR);
  });
});

describe("lab plumbing", () => {
  it("throttling proxy: shares the rate, holds at 0, releases at Infinity", async () => {
    const payload = Buffer.alloc(MiB, 7);
    const server = createServer((s) => s.end(payload));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const proxy = await startThrottleProxy({ target: `127.0.0.1:${(server.address() as AddressInfo).port}`, bytesPerSecond: 256 * 1024 });
    try {
      const received = [0, 0];
      const done = received.map(
        (_, i) =>
          new Promise<void>((resolve) => {
            const socket = connect(Number(proxy.address.split(":")[1]), "127.0.0.1");
            socket.on("data", (chunk: Buffer) => (received[i]! += chunk.length));
            socket.on("end", resolve);
          }),
      );
      await sleep(1_000);
      expect(received[0]! + received[1]!).toBeGreaterThan(128 * 1024);
      expect(received[0]! + received[1]!).toBeLessThan(512 * 1024);
      expect(Math.min(...received)).toBeGreaterThan(Math.max(...received) / 3); // fair share
      proxy.setRate(0);
      await sleep(100);
      const held = received[0]! + received[1]!;
      await sleep(400);
      expect(received[0]! + received[1]!).toBe(held);
      proxy.setRate(Infinity);
      await Promise.all(done);
      expect(received).toEqual([MiB, MiB]);
    } finally {
      await proxy.stop();
      server.close();
    }
  });

  it("restarts containerd on the same root and socket, keeping its state", async () => {
    const containerd = await startContainerd({ dir: `${lab.dir}/restart-test` });
    try {
      await ctr(containerd, "r", ["leases", "create", "--id", "survivor"]);
      const firstPid = containerd.pid;
      await containerd.restart({ crash: true });
      expect(containerd.pid).not.toBe(firstPid);
      expect((await listLeases(containerd, "r")).map((l) => l.id)).toEqual(["survivor"]);
    } finally {
      await containerd.stop();
    }
  });
});
