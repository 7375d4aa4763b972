// What each Docker version leaves in containerd after the real CLI is cancelled or creates
// containers, checked on the lab's dockerd (LAB_DOCKER). Where 26 and 28 differ, both sides are
// asserted (the table in test/lab/README.md is what these tests hold the daemons to).
import { afterAll, describe, expect, inject, it } from "vitest";
import { ContainerdClient } from "../../src/containerd/client.js";
import type { LeaseResource } from "../../src/containerd/types.js";
import { docker, dockerOf } from "./docker.js";
import {
  dockerCreate,
  dockerLoadCancelled,
  dockerPullCancelledDuringDownload,
  dockerPullCancelledDuringUnpack,
  dockerRun,
  dockerSaveCancelled,
} from "./docker-scenarios.js";
import { pushImage, type PushedImage } from "./images.js";
import { containerInfo, listContainerIds, listLeases, listSnapshots, type LeaseRow } from "./inspect.js";
import { chainIds } from "./oci.js";
import { uniqueNamespace } from "./scenarios.js";

const lab = inject("lab");
const d = dockerOf(lab);
const ns = d.namespace;
const MiB = 1 << 20;
const HOUR = 3_600_000;
const GC_EXPIRE = "containerd.io/gc.expire";
const PRUNE_IMAGES = "moby/prune.images";
const GENERATED_LEASE_ID = /^\d+-[A-Za-z0-9_-]{4}$/;
const CONTAINER_ID = /^[0-9a-f]{64}$/;
const docker28 = lab.dockerVersion === "28.5.2";

const client = new ContainerdClient({ address: lab.socket });
afterAll(() => client.close());

async function resources(lease: LeaseRow): Promise<LeaseResource[]> {
  return client.listLeaseResources(ns, lease.id);
}

function ids(list: LeaseResource[], type: string): string[] {
  return list.filter((r) => r.type === type).map((r) => r.id).sort();
}

/** Expiry relative to the lease's own creation time (Docker sets both). */
function expiresAfter(lease: LeaseRow): number {
  return Date.parse(lease.labels[GC_EXPIRE]!) - Date.parse(lease.createdAt);
}

/** What a cancelled pull's lease carries: 24 h on Docker 26; 8 h plus moby/prune.images on 28. */
function expectPullLease(lease: LeaseRow): void {
  expect(lease.id).toMatch(GENERATED_LEASE_ID);
  if (docker28) {
    expect(Object.keys(lease.labels).sort()).toEqual([GC_EXPIRE, PRUNE_IMAGES]);
    expect(lease.labels[PRUNE_IMAGES]).toBe("true");
    expect(expiresAfter(lease)).toBe(8 * HOUR);
  } else {
    expect(Object.keys(lease.labels)).toEqual([GC_EXPIRE]);
    expect(expiresAfter(lease)).toBe(24 * HOUR);
  }
}

function image(repo: string, layers: { size: number; gated?: boolean }[]): Promise<PushedImage> {
  return pushImage(lab, { repo: `docker/${repo}`, tag: uniqueNamespace("t"), layers });
}

describe(`docker ${lab.dockerVersion} pull cancelled with SIGINT`, () => {
  it("during download: the pull's lease, partial layer ingests, the manifest and config; no image, no snapshot", async () => {
    const img = await image("download", [{ size: 3 * MiB }, { size: 2 * MiB }]);
    const left = await dockerPullCancelledDuringDownload(lab, img);

    expect(left.exitCode).not.toBe(0);
    expect(left.leases).toHaveLength(1);
    const lease = left.leases[0]!;
    expectPullLease(lease);

    expect(left.ingests.map((i) => i.ref).sort()).toEqual(img.layerDigests.map((l) => `layer-${l}`).sort());
    for (const ingest of left.ingests) {
      expect(ingest.offset).toBeGreaterThan(0);
      expect(ingest.offset).toBeLessThan(ingest.total!);
    }
    expect(left.content.sort()).toEqual([img.manifestDigest, img.configDigest].sort());
    expect(left.images).toEqual([]);
    expect(left.snapshots).toEqual([]);

    const held = await resources(lease);
    expect(ids(held, "content")).toEqual([img.manifestDigest, img.configDigest].sort());
    expect(ids(held, "ingests")).toEqual(img.layerDigests.map((l) => `layer-${l}`).sort());
  });

  it("during unpack: the lease holds every blob and the layers unpacked so far; the extract snapshot is gone", async () => {
    const img = await image("unpack", [{ size: MiB }, { size: 2 * MiB, gated: true }]);
    const left = await dockerPullCancelledDuringUnpack(lab, img);

    expect(left.exitCode).not.toBe(0);
    expect(left.heldExtract.key).toMatch(/^extract-/);
    expect(left.leases).toHaveLength(1);
    const lease = left.leases[0]!;
    expectPullLease(lease);

    const chain = chainIds(img.layers.map((l) => l.diffId));
    // dockerd's unpacker removes the extract snapshot when its context is cancelled.
    expect(left.snapshots.map((s) => s.key)).toEqual([chain[0]]);
    expect(left.snapshots[0]!.kind).toBe("Committed");
    expect(left.ingests).toEqual([]);
    expect(left.images).toEqual([]);
    const blobs = [img.manifestDigest, img.configDigest, ...img.layerDigests].sort();
    expect(left.content.sort()).toEqual(blobs);

    const held = await resources(lease);
    expect(ids(held, "content")).toEqual(blobs);
    expect(ids(held, "snapshots/overlayfs")).toEqual([chain[0]]);
  });
});

describe(`docker ${lab.dockerVersion} load cancelled with SIGINT`, () => {
  it("leaves a 24 h lease (no prune.images label, on 26 and 28 alike) and a partial tar-blobs ingest", async () => {
    const spec = { repo: "docker/load", tag: uniqueNamespace("t"), layers: [{ size: 4 * MiB }, { size: 2 * MiB }] };
    const left = await dockerLoadCancelled(lab, spec);

    expect(left.exitCode).not.toBe(0);
    expect(left.leases).toHaveLength(1);
    const lease = left.leases[0]!;
    expect(lease.id).toMatch(GENERATED_LEASE_ID);
    expect(Object.keys(lease.labels)).toEqual([GC_EXPIRE]);
    expect(expiresAfter(lease)).toBe(24 * HOUR);
    expect(left.ingests).toHaveLength(1);
    expect(left.ingests[0]!.ref).toMatch(/^tar-blobs\/sha256\/[0-9a-f]{64}$/);
    expect(left.ingests[0]!.offset).toBeGreaterThan(0);
    expect(left.images).toEqual([]);
    expect(ids(await resources(lease), "ingests")).toEqual([left.ingests[0]!.ref]);
  });
});

describe(`docker ${lab.dockerVersion} save cancelled with SIGINT`, () => {
  it(
    docker28
      ? "leaves no lease (28 ends its 8 h prune.images save lease)"
      : "leaves a lease with no labels that never expires, holding the image's blobs (26's leak)",
    async () => {
      const img = await image("save", [{ size: 16 * MiB }, { size: 16 * MiB }]);
      await docker(lab, ["pull", "--quiet", img.ref]);
      const left = await dockerSaveCancelled(lab, img.ref);

      expect(left.exitCode).not.toBe(0);
      if (docker28) {
        expect(left.leases).toEqual([]);
      } else {
        expect(left.leases).toHaveLength(1);
        const lease = left.leases[0]!;
        expect(lease.labels).toEqual({});
        expect(ids(await resources(lease), "content")).toEqual(expect.arrayContaining([img.manifestDigest, ...img.layerDigests]));
      }
      await docker(lab, ["rmi", img.ref]);
    },
  );
});

describe(`docker ${lab.dockerVersion} create and run`, () => {
  it("create: a lease named after the container, no labels, never expires, holding <id> and <id>-init; no containerd container", async () => {
    const made = await dockerCreate(lab, uniqueNamespace("made"));
    expect(made.id).toMatch(CONTAINER_ID);
    expect(made.left.leases.map((l) => l.id)).toEqual([made.id]);
    expect(made.left.leases[0]!.labels).toEqual({});
    expect(made.left.snapshots.map((s) => s.key).sort()).toEqual([made.id, `${made.id}-init`].sort());
    expect(ids(await resources(made.left.leases[0]!), "snapshots/overlayfs")).toEqual([made.id, `${made.id}-init`].sort());
    expect(await listContainerIds(lab, ns)).not.toContain(made.id);
  });

  it("run -d: the same lease and snapshots, a containerd container with an empty snapshot key, the file in its writable layer", async () => {
    const running = await dockerRun(lab, uniqueNamespace("web"), { writeMiB: 2 });
    expect(running.id).toMatch(CONTAINER_ID);
    expect(running.left.leases.map((l) => l.id)).toEqual([running.id]);
    expect(running.left.leases[0]!.labels).toEqual({});
    const keys = running.left.snapshots.map((s) => s.key).sort();
    expect(keys).toEqual([running.id, `${running.id}-init`].sort());
    expect(running.left.snapshots.find((s) => s.key === running.id)!.kind).toBe("Active");
    expect(await listContainerIds(lab, ns)).toContain(running.id);
    const info = await containerInfo(lab, ns, running.id);
    expect(info.snapshotKey).toBe("");
    expect(running.writtenDigest).toMatch(/^[0-9a-f]{32}$/);
    // The lease never expires and is the only thing keeping the writable layer.
    expect((await listLeases(lab, ns)).find((l) => l.id === running.id)!.labels[GC_EXPIRE]).toBeUndefined();
    expect((await listSnapshots(lab, ns)).some((s) => s.key === running.id)).toBe(true);
    await docker(lab, ["rm", "-f", running.name]);
  });
});
