// The exporter's prune on a Docker host (containerd image store), on the lab's dockerd: after a
// `docker pull` cancelled with Ctrl-C, what /metrics calls reclaimable is what the prune frees
// on disk, and Docker keeps working afterwards: its images, its containers (a running one keeps
// the file it wrote, a created one starts), new pulls, and a pull that was in flight during the
// prune. Runs on every Docker version of the matrix (LAB_DOCKER).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PruneReport } from "../../src/prune/pruner.js";
import {
  dockerCreate,
  dockerPullCancelledDuringDownload,
  dockerPullInFlight,
  dockerRun,
  writtenDigest,
  type CancelledDockerPull,
  type DockerContainer,
  type RunningDockerContainer,
} from "../lab/docker-scenarios.js";
import { docker } from "../lab/docker.js";
import { pushImage } from "../lab/images.js";
import { listContent, listLeases, listSnapshots } from "../lab/inspect.js";
import { startLab, type Lab, type LabInfo } from "../lab/lab.js";
import { waitFor } from "../lab/wait.js";
import { diskUsage } from "../support/disk.js";
import { parseExposition, select } from "../support/exposition.js";
import { postPrune } from "../support/prune-check.js";
import { startTestApp, type TestApp } from "../support/app.js";

const TOKEN = "docker-prune-token";
const MiB = 1 << 20;
// The Done-when's tolerance: directory metadata and the like.
const SLACK_BYTES = 64 * 1024;
const SLACK_PER_REMOVED_OBJECT = 16 * 1024;
// The exporter runs with a policy under which a seconds-old cancelled pull is stale, so /metrics
// and a default prune (empty body: that policy, no lease named) see the same candidates.
const POLICY_FLAGS = ["--lease.stale-after=0s", "--ingest.idle-after=0s"];
const PRUNE_BODY = {};

// A lab of its own: node-wide figures (reclaimable, disk) must not see other test files.
let lab: Lab;
let info: LabInfo;
let t: TestApp;
let running: RunningDockerContainer;
let created: DockerContainer;
let cut: CancelledDockerPull;

const prune = (body: object): Promise<PruneReport> => postPrune(t, TOKEN, body);

async function reclaimableBytes(): Promise<number> {
  const samples = parseExposition((await t.app.inject({ url: "/metrics" })).body);
  const series = select(samples, "containerd_reclaimable_bytes");
  expect(series.map((s) => s.labels.resource).sort()).toEqual(["content", "ingest", "snapshot"]);
  return series.reduce((sum, s) => sum + s.value, 0);
}

const diskTotal = (): number => {
  const d = diskUsage(lab.root);
  return d.content + d.ingest + d.snapshot;
};

/** Blobs and snapshots in Docker's namespace, for counting what a prune removed. */
async function mobyObjects(): Promise<Set<string>> {
  const ns = info.docker!.namespace;
  const content = (await listContent(lab, ns)).map((c) => `content/${c.digest}`);
  const snapshots = (await listSnapshots(lab, ns)).map((s) => `snapshot/${s.key}`);
  return new Set([...content, ...snapshots]);
}

beforeAll(async () => {
  lab = await startLab({ withDocker: true });
  info = lab.info();
  if (!info.docker) throw new Error("docker-prune needs LAB_DOCKER (26.1.5 or 28.5.2)");
  running = await dockerRun(info, "web", { writeMiB: 5 });
  created = await dockerCreate(info, "made");
  const image = await pushImage(lab, { repo: "docker-prune/cut", tag: "1", layers: [{ size: 3 * MiB }, { size: 2 * MiB }] });
  cut = await dockerPullCancelledDuringDownload(info, image);
  t = await startTestApp([`--containerd.address=${lab.socket}`, "--prune.confirm-window=1s", ...POLICY_FLAGS], { ADMIN_TOKEN: TOKEN });
}, 180_000);

afterAll(async () => {
  await t?.close();
  await lab?.stop();
});

describe(`the exporter's prune on docker ${process.env.LAB_DOCKER}`, () => {
  it("frees on disk what containerd_reclaimable_bytes said, taking only the cancelled pull", async () => {
    expect(cut.leases).toHaveLength(1);
    const reclaimable = await reclaimableBytes();
    expect(reclaimable).toBeGreaterThan(2 * MiB); // the partial layers and the manifest and config
    const objectsBefore = await mobyObjects();
    const diskBefore = diskTotal();

    const report = await prune(PRUNE_BODY);

    const drop = diskBefore - diskTotal();
    const objectsAfter = await mobyObjects();
    const removedObjects =
      report.leases.deleted.length + report.ingests.aborted.length + [...objectsBefore].filter((o) => !objectsAfter.has(o)).length;
    expect(Math.abs(reclaimable - drop)).toBeLessThanOrEqual(SLACK_BYTES + SLACK_PER_REMOVED_OBJECT * removedObjects);

    expect(report.leases.deleted.map((l) => l.id)).toEqual([cut.leases[0]!.id]);
    expect(report.ingests.aborted.map((i) => i.ref).sort()).toEqual(cut.ingests.map((i) => i.ref).sort());
    const leases = (await listLeases(lab, info.docker!.namespace)).map((l) => l.id);
    expect(leases).toContain(running.id);
    expect(leases).toContain(created.id);
    expect(leases).not.toContain(cut.leases[0]!.id);
    expect(await reclaimableBytes()).toBe(0);
  });

  it("leaves Docker working: images, ps -a, restart keeps the written file, the created container starts, a new pull", async () => {
    const images = await docker(info, ["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    expect(images.split("\n")).toContain(info.docker!.busyboxImage);

    const ps = await docker(info, ["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.State}}"]);
    expect(ps.split("\n").filter(Boolean).sort()).toEqual([`${created.id} made created`, `${running.id} web running`].sort());

    await docker(info, ["restart", "--time", "5", "web"]);
    expect(await writtenDigest(info, "web")).toBe(running.writtenDigest);

    await docker(info, ["start", "made"]);
    const state = await docker(info, ["inspect", "--format", "{{.State.Status}}", "made"]);
    expect(state.trim()).toBe("running");

    const fresh = await pushImage(lab, { repo: "docker-prune/fresh", tag: "1", layers: [{ size: 2 * MiB }] });
    await docker(info, ["pull", "--quiet", fresh.ref]);
    expect((await docker(info, ["images", "--format", "{{.Repository}}:{{.Tag}}"])).split("\n")).toContain(fresh.ref);
  });

  it("lets a docker pull in flight during the prune complete", async () => {
    const image = await pushImage(lab, {
      repo: "docker-prune/inflight",
      tag: "1",
      layers: [{ size: 8 * MiB }, { size: 8 * MiB }, { size: 8 * MiB }],
    });
    const leasesBefore = new Set((await listLeases(lab, info.docker!.namespace)).map((l) => l.id));
    const inFlight = await dockerPullInFlight(info, image, 4 * MiB);
    try {
      const pullLease = await waitFor(
        "the in-flight pull's lease",
        async () => (await listLeases(lab, info.docker!.namespace)).find((l) => !leasesBefore.has(l.id)),
        { timeoutMs: 20_000 },
      );
      const report = await prune(PRUNE_BODY);
      expect(report.leases.deleted.map((l) => l.id)).not.toContain(pullLease.id);
      expect(report.leases.skipped).toContainEqual(expect.objectContaining({ id: pullLease.id, reason: "in-flight" }));
      expect(inFlight.pull.running()).toBe(true);
      await inFlight.pull.done(60_000);
    } finally {
      await inFlight.stop();
    }
    const images = await docker(info, ["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    expect(images.split("\n")).toContain(inFlight.pulledRef);
  });
});
