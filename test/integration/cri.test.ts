// The kubelet's side of CRI on every containerd of the matrix: what a finished, an in-flight and a
// cancelled PullImage and a running pod sandbox leave in `k8s.io`, who the exporter says owns
// it, and a prune that takes none of what an image, a pull in flight or a pod needs.
// Its own lab: CRI creates `k8s.io`, which the other suites' figures must not see.
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContainerdClient } from "../../src/containerd/client.js";
import type { ClassifiedInventory } from "../../src/inventory/classify.js";
import { STAY_UP } from "../lab/busybox.js";
import { allowPlainHttp, Cri, criPauseImage } from "../lab/cri.js";
import { pushImage, type PushedImage } from "../lab/images.js";
import { startLab, type Lab } from "../lab/lab.js";
import { startThrottleProxy, type ThrottleProxy } from "../lab/proxy.js";
import { waitFor } from "../lab/wait.js";
import { classifiedNow } from "../support/classified.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { blobFileDigest, expectPredictedIsDrop, measuredPrune } from "../support/prune-check.js";

const TOKEN = "cri-pulls-token-0001";
const K8S = "k8s.io";
const MiB = 1 << 20;
const EVERYTHING_STALE = { leaseStaleAfter: "0s", ingestIdleAfter: "0s" };

let lab: Lab;
let t: TestApp;
let client: ContainerdClient;
let cri: Cri;
let proxy: ThrottleProxy;

const classified = () => classifiedNow(client);
const k8s = (c: ClassifiedInventory) => c.namespaces.find((ns) => ns.name === K8S);
const ingested = async () => (await client.listIngests(K8S)).reduce((sum, i) => sum + i.offset, 0);
/** The image's blobs as the exporter classified them. */
const blobsOf = (c: ClassifiedInventory, image: PushedImage) =>
  (k8s(c)?.content ?? []).filter((b) => [image.manifestDigest, image.configDigest, ...image.layerDigests].includes(b.digest));

/** A PullImage through the throttling proxy, once `bytes` of it are down. */
async function pullUnderWay(image: PushedImage, bytes: number): Promise<{ done: Promise<string>; cancel: () => void }> {
  const controller = new AbortController();
  const done = cri.pull(`${proxy.address}/${image.repo}:${image.tag}`, { signal: controller.signal });
  done.catch(() => undefined);
  await waitFor(`the CRI pull of ${image.repo} to download ${bytes} bytes`, async () => (await ingested()) >= bytes, { timeoutMs: 60_000 });
  return { done, cancel: () => controller.abort() };
}

beforeAll(async () => {
  lab = await startLab({ withCri: true });
  proxy = await startThrottleProxy({ target: lab.registry, bytesPerSecond: MiB });
  allowPlainHttp(lab.containerd.registryHosts, [proxy.address]);
  client = new ContainerdClient({ address: lab.socket });
  cri = new Cri(lab.socket);
  t = await startTestApp([`--containerd.address=${lab.socket}`, "--prune.confirm-window=1s"], { ADMIN_TOKEN: TOKEN });
}, 180_000);

afterAll(async () => {
  await t?.close();
  cri?.close();
  client?.close();
  await proxy?.stop();
  await lab?.stop();
}, 120_000);

describe(`CRI pulls on containerd ${process.env.LAB_CONTAINERD ?? "1.6.20"}`, () => {
  let pulled: PushedImage;

  it("a finished PullImage is an image of k8s.io: every blob in use, no lease left", async () => {
    pulled = await pushImage(lab, { repo: "cri/done", tag: "1", layers: [{ size: 2 * MiB }, { size: MiB }] });
    const ref = await cri.pull(pulled.ref);
    expect((await cri.listImages()).map((i) => i.id)).toContain(ref);
    const c = await classified();
    expect(blobsOf(c, pulled).map((b) => b.state)).toEqual(["in_use", "in_use", "in_use", "in_use"]);
    expect(k8s(c)?.leases).toEqual([]);
  }, 120_000);

  it("a PullImage in flight holds a 24 h lease the exporter gives to cri, active; a prune skips it and the pull completes", async () => {
    proxy.setRate(MiB);
    const image = await pushImage(lab, { repo: "cri/inflight", tag: "1", layers: [{ size: 6 * MiB }] });
    const pull = await pullUnderWay(image, MiB);
    const leases = k8s(await classified())?.leases ?? [];
    expect(leases.map((l) => [l.owner, l.state])).toEqual([["cri", "active"]]);
    const lease = leases[0]!;
    expect((lease.expiresAt ?? 0) - lease.createdAt).toBeGreaterThan(23 * 3600);

    const m = await measuredPrune(t, TOKEN, lab.root, client, EVERYTHING_STALE);
    expect(m.report.leases.deleted.map((l) => l.id)).not.toContain(lease.id);
    expect(m.report.leases.skipped).toContainEqual(expect.objectContaining({ id: lease.id, reason: "in-flight" }));
    expect(m.report.ingests.aborted).toEqual([]);
    proxy.setRate(Infinity);
    const ref = await pull.done;
    expect((await cri.listImages()).map((i) => i.id)).toContain(ref);
    expect(blobsOf(await classified(), image).every((b) => b.state === "in_use")).toBe(true);
  }, 120_000);

  it("a cancelled PullImage (the kubelet giving up) leaves neither lease nor download; a prune then takes nothing an image needs", async () => {
    proxy.setRate(MiB);
    const image = await pushImage(lab, { repo: "cri/cut", tag: "1", layers: [{ size: 6 * MiB }] });
    const pull = await pullUnderWay(image, MiB);
    proxy.setRate(0);
    pull.cancel();
    await expect(pull.done).rejects.toThrow(/CANCELLED/);
    // containerd's CRI cleans up after a cancelled pull itself (measured on 1.6.20, 1.7.24, 2.1.9).
    await waitFor("the cancelled pull's lease and download to go", async () => (await client.listLeases(K8S)).length === 0 && (await ingested()) === 0, {
      timeoutMs: 20_000,
      describe: async () => JSON.stringify({ leases: await client.listLeases(K8S), ingests: await client.listIngests(K8S) }),
    });
    expect((await cri.listImages()).flatMap((i) => i.repoTags)).not.toContain(`${proxy.address}/${image.repo}:${image.tag}`);

    const m = await measuredPrune(t, TOKEN, lab.root, client, EVERYTHING_STALE);
    expect(m.report.leases.deleted.filter((l) => l.namespace === K8S)).toEqual([]);
    expectPredictedIsDrop(m);
    for (const digest of [pulled.manifestDigest, pulled.configDigest, ...pulled.layerDigests]) {
      expect(blobFileDigest(lab.root, digest)).toBe(digest);
    }
    expect((await cri.listImages()).flatMap((i) => i.repoTags)).toContain(pulled.ref);
  }, 120_000);

  it("a running pod keeps its sandbox and its container's written layer through a prune; on 2.1 the sandbox's lease is cri-sandbox's and refused even when named", async () => {
    const pod = await cri.runPodSandbox("web", mkdtempSync(join(lab.dir, "pod-logs-")));
    const write = "dd if=/dev/urandom of=/data/f bs=1048576 count=2 2>/dev/null && md5sum /data/f > /data/md5 && echo done > /data/done";
    const app = await cri.runContainer(pod, "app", criPauseImage(lab.registry), `${write}; ${STAY_UP}`);
    const running = async (id: string) => (await lab.ctr(K8S, "tasks", "ls")).split("\n").some((l) => l.startsWith(id) && /RUNNING/.test(l));
    try {
      await waitFor("the pod's container to write its file", () => cri.exec(app, ["cat", "/data/done"]).then(() => true, () => false), { timeoutMs: 30_000 });
      expect([await running(pod.id), await running(app)]).toEqual([true, true]);
      const ns = k8s(await classified())!;
      const layers = () => ns.snapshots.filter((s) => s.name === pod.id || s.name === app).map((s) => [s.name, s.state]);
      expect(layers().sort()).toEqual([[pod.id, "in_use"], [app, "in_use"]].sort());
      // containerd 2.1's CRI leases each sandbox under its id; 1.x keeps no lease for it.
      const leases = ns.leases.map((l) => [l.id, l.owner, l.state, l.refusal]);
      expect(leases).toEqual(lab.containerdMajor === 2 ? [[pod.id, "cri-sandbox", "owned", "owned-by-sandbox"]] : []);

      const m = await measuredPrune(t, TOKEN, lab.root, client, EVERYTHING_STALE);
      expect(m.report.leases.deleted).toEqual([]);
      expectPredictedIsDrop(m);
      if (lab.containerdMajor === 2) {
        const named = await measuredPrune(t, TOKEN, lab.root, client, { namespaces: [K8S], leases: [pod.id] });
        expect(named.report.leases.deleted).toEqual([]);
        expect(named.report.leases.skipped).toContainEqual(expect.objectContaining({ id: pod.id, owner: "cri-sandbox", reason: "owned-by-sandbox" }));
      }
      expect([await running(pod.id), await running(app)]).toEqual([true, true]);
      expect((await cri.exec(app, ["md5sum", "-c", "/data/md5"])).trim()).toBe("/data/f: OK");
    } finally {
      await cri.removePodSandbox(pod);
    }
    // The kubelet's own removal takes it all: no lease, no layer of the pod left.
    const after = k8s(await classified())!;
    expect(after.leases.map((l) => l.id)).not.toContain(pod.id);
    expect(after.snapshots.map((s) => s.name).filter((name) => name === pod.id || name === app)).toEqual([]);
  }, 180_000);
});
