import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ContainerdClient } from "../../src/containerd/client.js";
import { InventoryReader } from "../../src/inventory/read.js";
import type { Inventory, NamespaceInventory } from "../../src/inventory/types.js";
import { pushImage } from "../lab/images.js";
import { listContent, listImages, listLeases, snapshotUsage } from "../lab/inspect.js";
import {
  cancelledDownload,
  cancelledUnpack,
  completePull,
  createContainer,
  createLease,
  uniqueNamespace,
} from "../lab/scenarios.js";

// After each real scenario, the inventory holds exactly what ctr shows.
const lab = inject("lab");
const run = promisify(execFile);
let client: ContainerdClient;

async function readNamespace(ns: string): Promise<NamespaceInventory> {
  const reader = new InventoryReader(client, { namespaces: [ns] });
  const inventory = await reader.read(Date.now() + 10_000);
  expect(inventory.up).toBe(true);
  expect(inventory.collectors.filter((c) => !c.success)).toEqual([]);
  const found = inventory.namespaces.find((n) => n.name === ns);
  if (!found) throw new Error(`namespace ${ns} missing from the inventory`);
  return found;
}

async function expectSameAsCtr(ns: string, inv: NamespaceInventory): Promise<void> {
  const leases = await listLeases(lab, ns);
  expect(inv.leases.map((l) => [l.id, l.labels]).sort()).toEqual(leases.map((l) => [l.id, l.labels]).sort());
  expect(inv.content.map((b) => b.digest).sort()).toEqual((await listContent(lab, ns)).map((c) => c.digest).sort());
  expect(inv.images.map((i) => i.name).sort()).toEqual((await listImages(lab, ns)).map((i) => i.ref).sort());
  // An apply that containerd is still cancelling may write into an active snapshot for a moment
  // after the client died: compare usage once both readings agree, or fail with the last pair.
  const pairs = async (current: NamespaceInventory) => ({
    ours: current.snapshots.filter((s) => s.snapshotter === "overlayfs").map((s) => [s.name, s.usage?.size]).sort(),
    ctr: (await snapshotUsage(lab, ns)).map((u) => [u.key, u.bytes]).sort(),
  });
  let last = await pairs(inv);
  for (let attempt = 0; attempt < 10 && JSON.stringify(last.ours) !== JSON.stringify(last.ctr); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    last = await pairs(await readNamespace(ns));
  }
  expect(last.ours).toEqual(last.ctr);
}

beforeAll(() => {
  client = new ContainerdClient({ address: lab.socket });
});
afterAll(() => client.close());

describe("inventory against the real containerd", () => {
  it("lists the snapshotters that loaded and skips the ones that failed", async () => {
    const inventory = await new InventoryReader(client).read(Date.now() + 10_000);
    expect(inventory.snapshotters).toContain("overlayfs");
    expect(inventory.snapshotters).toContain("native");
    expect(inventory.snapshotters).not.toContain("devmapper");
    expect(inventory.containerd?.version).toMatch(/^1\.|^v?\d/);
  });

  it("sees a cancelled download's lease and its partial ingests with exact offsets", async () => {
    const ns = uniqueNamespace("inv-dl");
    const image = await pushImage(lab, { repo: "inv-dl", tag: "1", layers: [{ size: 3 << 20 }, { size: 2 << 20 }] });
    const left = await cancelledDownload(lab, ns, image);
    const inv = await readNamespace(ns);
    await expectSameAsCtr(ns, inv);
    const lease = inv.leases.find((l) => l.id === left.leases[0]?.id);
    expect(lease?.labels["containerd.io/gc.expire"]).toBeDefined();
    expect(inv.ingests.map((i) => [i.ref, i.offset]).sort()).toEqual(left.ingests.map((i) => [i.ref, i.offset]).sort());
    for (const ingest of inv.ingests) {
      expect(ingest.offset).toBeGreaterThan(0);
      expect(ingest.offset).toBeLessThan(ingest.total);
      expect(lease?.resources).toContainEqual({ type: "ingests", id: ingest.ref });
    }

    // The same through the command line.
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", "inventory", "--json", `--containerd.address=${lab.socket}`, `--containerd.namespaces=${ns}`],
      { cwd: new URL("../..", import.meta.url).pathname },
    );
    const printed = JSON.parse(stdout) as Inventory;
    expect(printed.namespaces.map((n) => n.name)).toEqual([ns]);
    expect(printed.namespaces[0]?.leases.map((l) => l.id)).toEqual(left.leases.map((l) => l.id));
    expect(printed.namespaces[0]?.ingests.map((i) => i.ref).sort()).toEqual(left.ingests.map((i) => i.ref).sort());
  });

  it("sees a cancelled unpack's extract snapshot and committed layers under its lease", async () => {
    const ns = uniqueNamespace("inv-unpack");
    const image = await pushImage(lab, {
      repo: "inv-unpack",
      tag: "1",
      layers: [{ size: 1 << 20 }, { size: 2 << 20, gated: true }],
    });
    const left = await cancelledUnpack(lab, ns, image);
    const inv = await readNamespace(ns);
    await expectSameAsCtr(ns, inv);
    const extract = inv.snapshots.find((s) => s.name === left.extract.key);
    expect(extract?.kind).toBe("active");
    expect(extract?.usage?.size).toBeGreaterThan(0);
    const committed = inv.snapshots.filter((s) => s.kind === "committed").map((s) => s.name);
    expect(committed.sort()).toEqual(left.committed.map((s) => s.key).sort());
    const lease = inv.leases.find((l) => l.id === left.leases[0]?.id);
    expect(lease?.resources).toContainEqual({ type: "snapshots/overlayfs", id: left.extract.key });
  });

  it("sees a complete image, a container on it and leases with and without expiry", async () => {
    const ns = uniqueNamespace("inv-full");
    const image = await pushImage(lab, { repo: "inv-full", tag: "1", layers: [{ size: 1 << 20 }] });
    await completePull(lab, ns, image);
    await createContainer(lab, ns, image.ref, "web");
    await createLease(lab, ns, { id: "forever", expiresIn: null, labels: { owner: "test" } });
    await createLease(lab, ns, { id: "soon", expiresIn: 3600 });
    const inv = await readNamespace(ns);
    await expectSameAsCtr(ns, inv);
    expect(inv.images.map((i) => i.target.digest)).toEqual([image.manifestDigest]);
    expect(inv.containers).toEqual([
      expect.objectContaining({ id: "web", image: image.ref, snapshotter: "overlayfs", snapshotKey: "web" }),
    ]);
    expect(inv.leases.find((l) => l.id === "forever")?.labels).toEqual({ owner: "test" });
    expect(inv.leases.find((l) => l.id === "soon")?.labels["containerd.io/gc.expire"]).toMatch(/Z$/);
  });
});
