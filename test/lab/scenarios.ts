// Reproducing what containerd leaves behind, with the real `ctr` client, in a namespace chosen by
// the caller (one per test, so tests sharing a lab cannot see each other's leftovers).
// Every helper works from LabTarget alone (plain data), so it runs in any test process; a helper
// that needs a throttled registry starts its own proxy in the calling process.
//
// What ctr 1.6 `images pull` does, and why the helpers look the way they do:
// 1. creates a lease (random id "<9 digits>-<4 chars>", label containerd.io/gc.expire = now+24h);
// 2. downloads manifest, config and all layers in parallel into ingests named
//    "<manifest|config|layer>-sha256:<hex>", writing in 1 MiB chunks (so an ingest's offset
//    moves in 1 MiB steps and only layers larger than 1 MiB can be left partial);
// 3. creates the image record once everything is downloaded;
// 4. unpacks layer by layer: Prepare "extract-<nanos>-<4 chars> <chainID>", Diff.Apply, Commit;
// 5. deletes the lease. A client killed before step 5 leaves the lease and all it holds.
// ctr cannot attach resources to a lease of our choosing (no --lease flag in 1.6); use the gRPC
// Leases/AddResource for that.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { clientPullArgs, ctr, spawnCtr, type CtrProcess } from "./ctr.js";
import type { PushedImage } from "./images.js";
import type { LabTarget } from "./info.js";
import {
  containerInfo,
  ingestsOnDisk,
  listContent,
  listImages,
  listIngests,
  listLeases,
  listSnapshots,
  snapshotUsage,
  type ContainerInfo,
  type LeaseRow,
  type SnapshotRow,
} from "./inspect.js";
import { gatedUnpack } from "./gate.js";
import { startThrottleProxy } from "./proxy.js";
import { selectRuntimes } from "./runtimes.js";
import { GiveUp, waitFor } from "./wait.js";

/** ctr 1.6 copies downloads in chunks of this size (content.Copy's buffer). */
export const CTR_WRITE_CHUNK = 1 << 20;

/** A namespace name no other test uses: "<prefix>-<8 hex>". */
export function uniqueNamespace(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

export interface PartialIngest {
  ref: string;
  digest: string;
  /** Exact bytes written (from the content store's files). */
  offset: number;
  /** Full blob size. */
  total: number;
  /** What `ctr content active` shows for it. */
  sizeText: string;
}

export interface CancelledDownload {
  namespace: string;
  /** The reference as pulled (through the scenario's proxy; the proxy is gone afterwards). */
  pulledRef: string;
  /** Leases that appeared in the namespace (the pull's, one). */
  leases: LeaseRow[];
  /** Layers left half-downloaded: 0 < offset < total. */
  ingests: PartialIngest[];
  /** Blobs committed before the kill (manifest, config, layers that finished). */
  committed: string[];
}

export interface CancelledDownloadOptions {
  /** Throttle rate while downloading (default 1 MiB/s). */
  bytesPerSecond?: number;
  timeoutMs?: number;
  /**
   * "client" (default): ctr downloads itself (`--local` on 2.x), ctr owns the lease.
   * "transfer" (containerd 2.x only): ctr asks the daemon's transfer service, which creates the
   * lease and writes the ingests itself; killing ctr leaves both, and no image record.
   */
  path?: "client" | "transfer";
}

/**
 * Pulls through a throttling proxy until the manifest and config are committed and every layer
 * has either finished or has a partial ingest (offset > 0), freezes the proxy (rate 0, so
 * offsets stop moving), then SIGKILLs ctr.
 */
export async function cancelledDownload(
  lab: LabTarget,
  ns: string,
  image: PushedImage,
  options: CancelledDownloadOptions = {},
): Promise<CancelledDownload> {
  if (!image.layers.some((l) => l.size > CTR_WRITE_CHUNK)) {
    throw new Error(`cancelledDownload needs a layer larger than 1 MiB (ctr writes ingests in 1 MiB chunks)`);
  }
  const before = await leaseIds(lab, ns);
  const proxy = await startThrottleProxy({ target: lab.registry, bytesPerSecond: options.bytesPerSecond ?? 1 << 20 });
  const pulledRef = `${proxy.address}/${image.repo}:${image.tag}`;
  const pull = spawnCtr(lab, ns, options.path === "transfer" ? transferPullArgs(lab, pulledRef) : clientPullArgs(lab, pulledRef));
  try {
    await waitFor("every layer to be partially downloaded or done", () => downloadStarted(lab, ns, image, pull), {
      timeoutMs: options.timeoutMs ?? 30_000,
      describe: () => `ctr output:\n${pull.output()}`,
    });
    proxy.setRate(0);
  } finally {
    await pull.kill();
    await proxy.stop();
  }
  const ingests = await settledIngests(lab, ns, image);
  const leases = (await listLeases(lab, ns)).filter((l) => !before.has(l.id));
  const committed = (await listContent(lab, ns)).map((c) => c.digest);
  return { namespace: ns, pulledRef, leases, ingests, committed };
}

function transferPullArgs(lab: LabTarget, ref: string): string[] {
  if ((lab.containerdMajor ?? selectRuntimes().containerd.major) !== 2) {
    throw new Error("the transfer-service pull is ctr's default only from containerd 2.0 (ctr 1.7 pulls client-side unless told otherwise)");
  }
  return ["images", "pull", "--plain-http", ref];
}

async function leaseIds(lab: LabTarget, ns: string): Promise<Set<string>> {
  return new Set((await listLeases(lab, ns)).map((l) => l.id));
}

async function downloadStarted(lab: LabTarget, ns: string, image: PushedImage, pull: CtrProcess): Promise<boolean> {
  if (!pull.running()) throw new GiveUp("ctr pull exited early");
  const active = new Map((await listIngests(lab, ns)).map((i) => [i.ref, i.approxOffset]));
  const done = new Set((await listContent(lab, ns)).map((c) => c.digest));
  // The manifest and config are tiny: wait for them too, so what the kill leaves is always the same.
  if (!done.has(image.manifestDigest) || !done.has(image.configDigest)) return false;
  const states = image.layerDigests.map((d) => (done.has(d) ? "done" : (active.get(`layer-${d}`) ?? 0) > 0 ? "partial" : "waiting"));
  return states.includes("partial") && !states.includes("waiting");
}

/** Reads exact ingest offsets until two reads agree (bytes in flight at the kill land late). */
async function settledIngests(lab: LabTarget, ns: string, image: PushedImage): Promise<PartialIngest[]> {
  let previous = "";
  for (let i = 0; i < 20; i++) {
    const disk = ingestsOnDisk(lab.root, ns);
    const key = JSON.stringify(disk.map((d) => [d.ref, d.offset]).sort());
    if (key === previous) break;
    previous = key;
    await sleep(100);
  }
  const sizes = new Map(image.layers.map((l) => [l.digest, l.size]));
  const exact = new Map(ingestsOnDisk(lab.root, ns).map((d) => [d.ref, d]));
  return (await listIngests(lab, ns)).map((row) => {
    const digest = row.ref.slice(row.ref.indexOf("-") + 1);
    const disk = exact.get(row.ref);
    return { ref: row.ref, digest, offset: disk?.offset ?? row.approxOffset, total: disk?.total ?? sizes.get(digest) ?? 0, sizeText: row.sizeText };
  });
}

export interface CancelledUnpack {
  namespace: string;
  pulledRef: string;
  leases: LeaseRow[];
  /** The ACTIVE "extract-<nanos>-<rand> <chainID>" snapshot the unpack was writing into. */
  extract: SnapshotRow;
  /** Committed layer snapshots (chain IDs) below it. */
  committed: SnapshotRow[];
  /** Blobs in the namespace: everything was downloaded before unpacking started. */
  content: string[];
  /** ctr 1.6 creates the image record before unpacking, so it exists. */
  images: string[];
}

/**
 * Pulls an image with a gated layer (pushImage with `{ gated: true }`, see gate.ts). The unpack
 * applies the layers before it, then holds inside the gated layer's Apply with an ACTIVE
 * "extract-… <chainID of the gated layer>" snapshot; we wait for exactly that snapshot in
 * `ctr snapshots ls` and SIGKILL ctr. Deterministic: the unpack cannot get past the gate.
 */
export async function cancelledUnpack(
  lab: LabTarget,
  ns: string,
  image: PushedImage,
  options: { timeoutMs?: number } = {},
): Promise<CancelledUnpack> {
  const { chainId, heldKey, isHeld } = gatedUnpack(image);
  const before = await leaseIds(lab, ns);
  const pull = spawnCtr(lab, ns, clientPullArgs(lab, image.ref));
  try {
    await waitFor(`an active extract snapshot for ${chainId}`, () => snapshotAppears(lab, ns, pull, isHeld), {
      timeoutMs: options.timeoutMs ?? 30_000,
      describe: () => `ctr output:\n${pull.output()}`,
    });
    await usageSettles(lab, ns, pull, heldKey);
  } finally {
    await pull.kill();
  }
  const snapshots = await listSnapshots(lab, ns);
  const extract = snapshots.find(isHeld);
  if (!extract) throw new Error("the extract snapshot vanished after ctr was killed");
  return {
    namespace: ns,
    pulledRef: image.ref,
    leases: (await listLeases(lab, ns)).filter((l) => !before.has(l.id)),
    extract,
    committed: snapshots.filter((s) => s.kind === "Committed"),
    content: (await listContent(lab, ns)).map((c) => c.digest),
    images: (await listImages(lab, ns)).map((i) => i.ref),
  };
}

/**
 * Waits until the held snapshot's disk usage stops changing: the gate's pass-through bytes have
 * been written, so the snapshot holds partial data and what we report is stable.
 */
async function usageSettles(lab: LabTarget, ns: string, pull: CtrProcess, match: (key: string) => boolean): Promise<void> {
  let previous = -1;
  await waitFor(
    "the extract snapshot's usage to settle",
    async () => {
      if (!pull.running()) throw new GiveUp("ctr pull exited early");
      const bytes = (await snapshotUsage(lab, ns)).find((u) => match(u.key))?.bytes ?? -1;
      const settled = bytes > 0 && bytes === previous;
      previous = bytes;
      return settled;
    },
    { timeoutMs: 10_000, intervalMs: 150 },
  );
}

async function snapshotAppears(lab: LabTarget, ns: string, pull: CtrProcess, match: (s: SnapshotRow) => boolean): Promise<boolean> {
  if (!pull.running()) throw new GiveUp("ctr pull exited early");
  return (await listSnapshots(lab, ns)).some(match);
}

export interface CompletePull {
  namespace: string;
  imageRef: string;
  /** Committed layer snapshots, one per layer. */
  snapshots: SnapshotRow[];
  content: string[];
}

/** A normal, unthrottled `ctr images pull` that runs to the end. */
export async function completePull(lab: LabTarget, ns: string, image: PushedImage): Promise<CompletePull> {
  if (image.layers.some((l) => l.gated)) throw new Error("an image with a gated layer can never finish unpacking");
  await ctr(lab, ns, clientPullArgs(lab, image.ref));
  return {
    namespace: ns,
    imageRef: image.ref,
    snapshots: (await listSnapshots(lab, ns)).filter((s) => s.kind === "Committed"),
    content: (await listContent(lab, ns)).map((c) => c.digest),
  };
}

/**
 * `ctr containers create IMAGE ID`: a container record plus an ACTIVE snapshot named after the
 * container, on top of the image's top layer. No task is started. The image must be unpacked in
 * `ns` (completePull).
 */
export async function createContainer(lab: LabTarget, ns: string, imageRef: string, id: string): Promise<ContainerInfo> {
  await ctr(lab, ns, ["containers", "create", imageRef, id]);
  return containerInfo(lab, ns, id);
}

export interface LeaseOptions {
  id?: string;
  /** Seconds until containerd.io/gc.expire; null = never expires; omitted = ctr's default, 24h. */
  expiresIn?: number | null;
  labels?: Record<string, string>;
}

/** `ctr leases create [--id ID] [--expires Ns|0] k=v...`; an empty lease (ctr cannot add resources). */
export async function createLease(lab: LabTarget, ns: string, options: LeaseOptions = {}): Promise<LeaseRow> {
  const args = ["leases", "create"];
  if (options.id !== undefined) args.push("--id", options.id);
  if (options.expiresIn !== undefined) args.push("--expires", options.expiresIn === null ? "0" : `${options.expiresIn}s`);
  for (const [key, value] of Object.entries(options.labels ?? {})) args.push(`${key}=${value}`);
  const id = (await ctr(lab, ns, args)).trim();
  const lease = (await listLeases(lab, ns)).find((l) => l.id === id);
  if (!lease) throw new Error(`lease ${id} not listed after creation`);
  return lease;
}

/** `ctr leases rm [--sync] ID`; with sync, returns after the garbage collection it triggers. */
export async function deleteLease(lab: LabTarget, ns: string, id: string, options: { sync?: boolean } = {}): Promise<void> {
  await ctr(lab, ns, ["leases", "rm", ...(options.sync ? ["--sync"] : []), id]);
}
