// Reproducing what Docker with the containerd image store leaves in containerd, with the real
// Docker CLI against the lab's dockerd. Docker keeps everything in the `moby` namespace, shared
// by all tests of a run, so each helper reports only what appeared during its own action (a
// diff of the namespace before and after), and every download scenario needs an image the lab
// has never stored (give each test its own tag).
//
// How Docker is cancelled here is how a user cancels it: SIGINT to the CLI (Ctrl-C). The CLI
// closes its API request; dockerd cancels the operation's context, and whatever containerd state
// the operation had created stays behind (test/lab/README.md has the table per Docker version).
import { gatedUnpack } from "./gate.js";
import { buildImage, ociArchive, type ImageSpec } from "./oci.js";
import { docker, dockerOf, spawnDocker, type DockerProcess } from "./docker.js";
import type { PushedImage } from "./images.js";
import type { LabInfo } from "./info.js";
import { ingestsOnDisk, listContent, listImages, listIngests, listLeases, listSnapshots, type LeaseRow, type SnapshotRow } from "./inspect.js";
import { startThrottleProxy, type ThrottleProxy } from "./proxy.js";
import { STAY_UP } from "./busybox.js";
import { setTimeout as sleep } from "node:timers/promises";
import { GiveUp, waitFor } from "./wait.js";

type DockerLab = Pick<LabInfo, "socket" | "root" | "registry" | "docker" | "ctrPath" | "containerdMajor">;

/** What a Docker action left in the moby namespace: only objects that were not there before. */
export interface MobyDiff {
  leases: LeaseRow[];
  /** Ingests with exact offsets from the content store's files. */
  ingests: { ref: string; offset: number; total: number | undefined }[];
  snapshots: SnapshotRow[];
  /** Committed blobs (digests). */
  content: string[];
  /** Image records (names). */
  images: string[];
}

interface MobyState {
  leases: Set<string>;
  ingests: Set<string>;
  snapshots: Set<string>;
  content: Set<string>;
  images: Set<string>;
}

async function mobyState(lab: DockerLab): Promise<MobyState> {
  const ns = dockerOf(lab).namespace;
  return {
    leases: new Set((await listLeases(lab, ns)).map((l) => l.id)),
    ingests: new Set((await listIngests(lab, ns)).map((i) => i.ref)),
    snapshots: new Set((await listSnapshots(lab, ns)).map((s) => s.key)),
    content: new Set((await listContent(lab, ns)).map((c) => c.digest)),
    images: new Set((await listImages(lab, ns)).map((i) => i.ref)),
  };
}

async function mobyDiff(lab: DockerLab, before: MobyState): Promise<MobyDiff> {
  const ns = dockerOf(lab).namespace;
  return {
    leases: (await listLeases(lab, ns)).filter((l) => !before.leases.has(l.id)),
    ingests: ingestsOnDisk(lab.root, ns)
      .filter((i) => !before.ingests.has(i.ref))
      .map(({ ref, offset, total }) => ({ ref, offset, total })),
    snapshots: (await listSnapshots(lab, ns)).filter((s) => !before.snapshots.has(s.key)),
    content: (await listContent(lab, ns)).map((c) => c.digest).filter((d) => !before.content.has(d)),
    images: (await listImages(lab, ns)).map((i) => i.ref).filter((r) => !before.images.has(r)),
  };
}

/** Reads the namespace until two reads a little apart agree (dockerd cleans up after a cancel). */
async function settledDiff(lab: DockerLab, before: MobyState): Promise<MobyDiff> {
  let previous = "";
  for (let i = 0; i < 30; i++) {
    const diff = await mobyDiff(lab, before);
    const key = JSON.stringify(diff);
    if (key === previous) return diff;
    previous = key;
    await sleep(150);
  }
  return mobyDiff(lab, before);
}

export interface CancelledDockerAction extends MobyDiff {
  /** The CLI's exit code after SIGINT (130 when it noticed the signal). */
  exitCode: number | null;
  output: string;
}

export interface CancelledDockerPull extends CancelledDockerAction {
  /** The reference pulled (through the scenario's own proxy, gone afterwards). */
  pulledRef: string;
}

/**
 * `docker pull` through a throttling proxy, interrupted once the manifest and config are stored
 * and every layer is partly downloaded or done; the proxy is frozen first so offsets stay put.
 */
export async function dockerPullCancelledDuringDownload(
  lab: DockerLab,
  image: PushedImage,
  options: { bytesPerSecond?: number; timeoutMs?: number } = {},
): Promise<CancelledDockerPull> {
  if (!image.layers.some((l) => l.size > 1 << 20)) throw new Error("needs a layer larger than 1 MiB (downloads are written in 1 MiB chunks)");
  const before = await mobyState(lab);
  const proxy = await startThrottleProxy({ target: lab.registry, bytesPerSecond: options.bytesPerSecond ?? 1 << 20 });
  const pulledRef = `${proxy.address}/${image.repo}:${image.tag}`;
  const pull = spawnDocker(lab, ["pull", pulledRef]);
  let exitCode: number | null;
  try {
    await waitFor("every layer to be partially downloaded or done", () => downloadStarted(lab, image, pull), {
      timeoutMs: options.timeoutMs ?? 30_000,
      describe: () => `docker output:\n${pull.output()}`,
    });
    proxy.setRate(0);
    exitCode = (await pull.interrupt()).code;
  } finally {
    await pull.interrupt();
    await proxy.stop();
  }
  return { pulledRef, exitCode, output: pull.output(), ...(await settledDiff(lab, before)) };
}

async function downloadStarted(lab: DockerLab, image: PushedImage, pull: DockerProcess): Promise<boolean> {
  if (!pull.running()) throw new GiveUp("docker pull exited early");
  const ns = dockerOf(lab).namespace;
  const active = new Map((await listIngests(lab, ns)).map((i) => [i.ref, i.approxOffset]));
  const done = new Set((await listContent(lab, ns)).map((c) => c.digest));
  if (!done.has(image.manifestDigest) || !done.has(image.configDigest)) return false;
  const states = image.layerDigests.map((d) => (done.has(d) ? "done" : (active.get(`layer-${d}`) ?? 0) > 0 ? "partial" : "waiting"));
  return states.includes("partial") && !states.includes("waiting");
}

export interface CancelledDockerUnpack extends CancelledDockerPull {
  /** The extract snapshot that was active when the CLI was interrupted. */
  heldExtract: SnapshotRow;
}

/**
 * `docker pull` of an image with a gated layer (gate.ts): dockerd downloads everything, unpacks
 * the layers before the gate and is held inside the gated layer's apply with an active
 * `extract-…` snapshot; then the CLI is interrupted.
 */
export async function dockerPullCancelledDuringUnpack(
  lab: DockerLab,
  image: PushedImage,
  options: { timeoutMs?: number } = {},
): Promise<CancelledDockerUnpack> {
  const { chainId, isHeld } = gatedUnpack(image);
  const before = await mobyState(lab);
  const pull = spawnDocker(lab, ["pull", image.ref]);
  let heldExtract: SnapshotRow;
  let exitCode: number | null;
  try {
    heldExtract = await waitFor(
      `an active extract snapshot for ${chainId}`,
      async () => {
        if (!pull.running()) throw new GiveUp("docker pull exited early");
        return (await listSnapshots(lab, dockerOf(lab).namespace)).find(isHeld);
      },
      { timeoutMs: options.timeoutMs ?? 30_000, describe: () => `docker output:\n${pull.output()}` },
    );
    exitCode = (await pull.interrupt()).code;
  } finally {
    await pull.interrupt();
  }
  return { pulledRef: image.ref, heldExtract, exitCode, output: pull.output(), ...(await settledDiff(lab, before)) };
}

/**
 * `docker load` of an OCI archive fed through stdin, interrupted once the first layer's
 * `tar-blobs/…` ingest has data: the archive is written only up to the middle of that layer.
 */
export async function dockerLoadCancelled(lab: DockerLab, spec: ImageSpec, options: { timeoutMs?: number } = {}): Promise<CancelledDockerAction> {
  const built = buildImage(spec);
  const archive = ociArchive(built, spec.tag);
  const first = built.layers[0];
  if (!first || first.size < 2 << 20) throw new Error("needs a first layer of at least 2 MiB");
  const layerStart = archive.indexOf(built.blobs.get(first.digest)!.subarray(0, 4096));
  const before = await mobyState(lab);
  const load = spawnDocker(lab, ["load"], { stdin: "pipe" });
  let exitCode: number | null;
  try {
    load.child.stdin!.write(archive.subarray(0, layerStart + Math.floor(first.size / 2)));
    const ref = `tar-blobs/sha256/${first.digest.slice("sha256:".length)}`;
    await waitFor(
      `the ${ref} ingest to hold data`,
      async () => {
        if (!load.running()) throw new GiveUp("docker load exited early");
        return ingestsOnDisk(lab.root, dockerOf(lab).namespace).some((i) => i.ref === ref && i.offset > 0);
      },
      { timeoutMs: options.timeoutMs ?? 30_000, describe: () => `docker output:\n${load.output()}` },
    );
    exitCode = (await load.interrupt()).code;
  } finally {
    await load.interrupt();
  }
  return { exitCode, output: load.output(), ...(await settledDiff(lab, before)) };
}

/**
 * `docker save IMAGE` whose output nobody reads, so it blocks mid-stream with its lease open;
 * interrupted once that lease is listed. The image must be in Docker's store and large enough
 * (tens of MiB) that the pipe cannot take all of it.
 */
export async function dockerSaveCancelled(lab: DockerLab, imageRef: string, options: { timeoutMs?: number } = {}): Promise<CancelledDockerAction> {
  const before = await mobyState(lab);
  const save = spawnDocker(lab, ["save", imageRef], { readStdout: false });
  let exitCode: number | null;
  try {
    await waitFor(
      "docker save's lease",
      async () => {
        if (!save.running()) throw new GiveUp("docker save exited early (is the image too small to block?)");
        return (await listLeases(lab, dockerOf(lab).namespace)).some((l) => !before.leases.has(l.id));
      },
      { timeoutMs: options.timeoutMs ?? 30_000, describe: () => `docker output:\n${save.output()}` },
    );
    // Let the stream block on the full pipe, so the interrupt lands mid-save.
    await sleep(300);
    exitCode = (await save.interrupt()).code;
  } finally {
    await save.interrupt();
  }
  return { exitCode, output: save.output(), ...(await settledDiff(lab, before)) };
}

export interface DockerContainer {
  id: string;
  name: string;
  /** What the action added to the moby namespace (the container's lease and snapshots). */
  left: MobyDiff;
}

/** The file a running lab container writes into its writable layer, once. */
export const WRITTEN_FILE = "/data/written";

/** `docker create` of the lab's busybox image (never started). */
export async function dockerCreate(lab: DockerLab, name: string): Promise<DockerContainer> {
  const before = await mobyState(lab);
  const id = (await docker(lab, ["create", "--network", "none", "--name", name, dockerOf(lab).busyboxImage])).trim();
  return { id, name, left: await mobyDiff(lab, before) };
}

export interface RunningDockerContainer extends DockerContainer {
  /** md5 of WRITTEN_FILE as the container wrote it. */
  writtenDigest: string;
  writtenBytes: number;
}

/**
 * `docker run -d` of the busybox image: writes `writeMiB` MiB of random data to WRITTEN_FILE
 * (only if the file is not there yet, so a restart keeps the original), then stays up.
 */
export async function dockerRun(lab: DockerLab, name: string, options: { writeMiB?: number } = {}): Promise<RunningDockerContainer> {
  const mib = options.writeMiB ?? 1;
  const before = await mobyState(lab);
  const script = [
    `test -e ${WRITTEN_FILE}.done || { dd if=/dev/urandom of=${WRITTEN_FILE} bs=1048576 count=${mib} 2>/dev/null && sync && touch ${WRITTEN_FILE}.done; }`,
    STAY_UP,
  ].join("; ");
  const id = (await docker(lab, ["run", "-d", "--network", "none", "--name", name, dockerOf(lab).busyboxImage, script])).trim();
  await waitFor("the container's file", () => docker(lab, ["exec", name, "test", "-e", `${WRITTEN_FILE}.done`]).then(() => true), {
    timeoutMs: 20_000,
  });
  return { id, name, writtenDigest: await writtenDigest(lab, name), writtenBytes: mib << 20, left: await mobyDiff(lab, before) };
}

/** md5 of WRITTEN_FILE inside a running container. */
export async function writtenDigest(lab: DockerLab, name: string): Promise<string> {
  return (await docker(lab, ["exec", name, "md5sum", WRITTEN_FILE])).split(" ")[0]!;
}

/**
 * A `docker pull` through its own throttling proxy, left running; `done()` waits for it. Use it
 * to have a pull in flight while something else happens.
 */
export async function dockerPullInFlight(
  lab: DockerLab,
  image: PushedImage,
  bytesPerSecond: number,
): Promise<{ pull: DockerProcess; proxy: ThrottleProxy; pulledRef: string; stop(): Promise<void> }> {
  const proxy = await startThrottleProxy({ target: lab.registry, bytesPerSecond });
  const pulledRef = `${proxy.address}/${image.repo}:${image.tag}`;
  const pull = spawnDocker(lab, ["pull", pulledRef]);
  return {
    pull,
    proxy,
    pulledRef,
    stop: async () => {
      await pull.interrupt();
      await proxy.stop();
    },
  };
}
