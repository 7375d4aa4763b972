// The seeder's plan: every object a profile puts into containerd, computed up front from the
// profile's seed (same ids, bytes and digests on every run), then applied by seed.ts.
import { createHash } from "node:crypto";
import { Rng } from "./prng.js";
import type { Profile } from "./profiles.js";

export const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const INDEX = "application/vnd.oci.image.index.v1+json";
export const CONFIG = "application/vnd.oci.image.config.v1+json";
export const LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

const L = {
  expire: "containerd.io/gc.expire",
  flat: "containerd.io/gc.flat",
  root: "containerd.io/gc.root",
  refContent: "containerd.io/gc.ref.content",
  refSnapshot: "containerd.io/gc.ref.snapshot.",
  snapshotRef: "containerd.io/snapshot.ref",
};

export type LeaseKind = "active" | "stale" | "expired" | "permanent";

/** Who protects an object while the seeder builds the rest. */
export type Owner =
  /** the namespace's seeding lease (deleted at the end: only what images, containers, gc.root or other leases reference stays) */
  | "seed"
  /** nobody: created after the last GC */
  | "none"
  | { lease: string };

export interface BlobPlan {
  ns: string;
  digest: string;
  data: Buffer;
  labels: Record<string, string>;
  owner: Owner;
  final?: boolean;
}

export interface SnapshotPlan {
  ns: string;
  snapshotter: string;
  /** The active key (Prepare). */
  key: string;
  /** Commit name; absent: stays active. */
  name?: string;
  parent: string;
  labels: Record<string, string>;
  owner: Owner;
  /** Files written into an active snapshot's writable directory. */
  files: number;
}

export interface LeasePlan {
  ns: string;
  id: string;
  kind: LeaseKind;
  labels: Record<string, string>;
  /** Resources attached after creation with Leases/AddResource. */
  attach: { type: string; id: string }[];
}

export interface IngestPlan {
  ns: string;
  ref: string;
  data: Buffer;
  total: number;
  expected: string;
}

export interface ImagePlan {
  ns: string;
  name: string;
  target: { media_type: string; digest: string; size: number };
  labels: Record<string, string>;
}

export interface ContainerPlan {
  ns: string;
  id: string;
  image: string;
  snapshotter: string;
  snapshotKey: string;
}

/** Snapshots in creation order: a chain is created parent first; chains run in parallel. */
export type Chain = SnapshotPlan[];

export interface NamespacePlan {
  name: string;
  leases: LeasePlan[];
  blobs: BlobPlan[];
  ingests: IngestPlan[];
  /** Stage 1: shared base chains; stage 2: image and lease chains; stage 3: actives on top. */
  chains: [Chain[], Chain[], Chain[]];
  images: ImagePlan[];
  containers: ContainerPlan[];
  /** Created after the last GC, within containerd's mutation threshold. */
  final: { leases: LeasePlan[]; blobs: BlobPlan[]; snapshots: Chain[] };
}

export interface Plan {
  profile: Profile;
  namespaces: NamespacePlan[];
}

export interface PlanCounts {
  images: number;
  blobs: number;
  snapshots: number;
  activeSnapshots: number;
  leases: number;
  leasesByKind: Record<LeaseKind, number>;
  ingests: number;
  containers: number;
}

function sha256(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

function scaled(total: number, weight: number, min = 0): number {
  return Math.max(min, Math.round(total * weight));
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** Builds one namespace's worth of objects. */
class NamespaceBuilder {
  readonly plan: NamespacePlan;
  private n = 0;
  private readonly baseChains: { snapshotter: string; top: string; layers: BlobPlan[] }[] = [];
  /** Tops of committed chains that actives may sit on, by snapshotter. */
  private readonly tops: { snapshotter: string; top: string }[] = [];

  constructor(
    readonly ns: string,
    private readonly rng: Rng,
    private readonly shared: Rng,
  ) {
    this.plan = {
      name: ns,
      leases: [],
      blobs: [],
      ingests: [],
      chains: [[], [], []],
      images: [],
      containers: [],
      final: { leases: [], blobs: [], snapshots: [] },
    };
  }

  private uid(): number {
    return ++this.n;
  }

  blob(data: Buffer, labels: Record<string, string>, owner: Owner): BlobPlan {
    const blob: BlobPlan = { ns: this.ns, digest: sha256(data), data, labels, owner };
    this.plan.blobs.push(blob);
    return blob;
  }

  layer(owner: Owner, rng: Rng = this.rng): BlobPlan {
    return this.blob(rng.bytes(rng.int(200, 4000)), {}, owner);
  }

  extractKey(chainId: string): string {
    return `extract-${1_700_000_000_000_000_000n + BigInt(this.uid()) * 7919n}-${this.rng.alnum(4)} ${chainId}`;
  }

  snapshotter(): string {
    return this.rng.chance(0.9) ? "overlayfs" : "native";
  }

  /** A committed chain for `layers` on top of `parent`; returns the chain and its top name. */
  chainFor(layers: BlobPlan[], parent: string, snapshotter: string, owner: Owner): { chain: Chain; top: string } {
    const chain: Chain = [];
    let top = parent;
    for (const layer of layers) {
      const chainId = top === "" ? layer.digest : sha256(`${top} ${layer.digest}`);
      chain.push({
        ns: this.ns,
        snapshotter,
        key: this.extractKey(chainId),
        name: chainId,
        parent: top,
        labels: { [L.snapshotRef]: chainId },
        owner,
        files: 0,
      });
      top = chainId;
    }
    return { chain, top };
  }

  /**
   * Shared base chains (identical bytes in every namespace: one file on disk, counted once).
   * Generated up front so every namespace gets the same bytes, planned on first use only (an
   * unused base would be garbage collected).
   */
  bases(count: number): void {
    for (let i = 0; i < count; i++) {
      const layers = Array.from({ length: this.shared.int(1, 3) }, () => {
        const data = this.shared.bytes(this.shared.int(200, 4000));
        return { ns: this.ns, digest: sha256(data), data, labels: {}, owner: "seed" } as BlobPlan;
      });
      this.baseChains.push({ snapshotter: "overlayfs", top: "", layers });
    }
  }

  private useBase(base: { snapshotter: string; top: string; layers: BlobPlan[] }): void {
    if (base.top !== "") return;
    this.plan.blobs.push(...base.layers);
    const { chain, top } = this.chainFor(base.layers, "", base.snapshotter, "seed");
    this.plan.chains[0].push(chain);
    base.top = top;
    this.tops.push({ snapshotter: base.snapshotter, top });
  }

  /** An image: manifest (and sometimes an index), config, layers, the unpacked chain. */
  image(maxLayers: number): void {
    const id = this.uid();
    const base = this.baseChains.length > 0 && this.rng.chance(0.6) ? this.rng.pick(this.baseChains) : undefined;
    if (base) this.useBase(base);
    const snapshotter = base?.snapshotter ?? this.snapshotter();
    const own = Array.from({ length: this.rng.int(1, Math.max(1, maxLayers - (base?.layers.length ?? 0))) }, () =>
      this.layer("seed"),
    );
    const layers = [...(base?.layers ?? []), ...own];
    const { chain, top } = this.chainFor(own, base?.top ?? "", snapshotter, "seed");
    this.plan.chains[1].push(chain);
    this.tops.push({ snapshotter, top });
    const repo = `registry.example/team-${id % 17}/app-${id}`;
    const config = this.blob(
      json({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) }, id }),
      { [`${L.refSnapshot}${snapshotter}`]: top, [`containerd.io/distribution.source.registry.example`]: repo },
      "seed",
    );
    const manifestLabels: Record<string, string> = { [`${L.refContent}.config`]: config.digest };
    layers.forEach((l, i) => (manifestLabels[`${L.refContent}.l.${i}`] = l.digest));
    const manifest = this.blob(
      json({
        schemaVersion: 2,
        mediaType: MANIFEST,
        config: { mediaType: CONFIG, digest: config.digest, size: config.data.length },
        layers: layers.map((l) => ({ mediaType: LAYER, digest: l.digest, size: l.data.length })),
      }),
      manifestLabels,
      "seed",
    );
    let target = { media_type: MANIFEST, digest: manifest.digest, size: manifest.data.length };
    if (this.rng.chance(0.2)) {
      const other = sha256(`missing-platform-${this.ns}-${id}`); // a platform never pulled
      const index = this.blob(
        json({
          schemaVersion: 2,
          mediaType: INDEX,
          manifests: [
            { mediaType: MANIFEST, digest: manifest.digest, size: manifest.data.length, platform: { os: "linux", architecture: "amd64" } },
            { mediaType: MANIFEST, digest: other, size: 1234, platform: { os: "linux", architecture: "arm64" } },
          ],
        }),
        { [`${L.refContent}.m.0`]: manifest.digest },
        "seed",
      );
      target = { media_type: INDEX, digest: index.digest, size: index.data.length };
    }
    const labels: Record<string, string> = this.ns === "k8s.io" ? { "io.cri-containerd.image": "managed" } : {};
    this.plan.images.push({ ns: this.ns, name: `${repo}:v${this.rng.int(1, 40)}`, target, labels });
  }

  top(): { snapshotter: string; top: string } {
    return this.rng.pick(this.tops);
  }

  active(key: string, parent: { snapshotter: string; top: string }, owner: Owner, withFiles: number): SnapshotPlan {
    return {
      ns: this.ns,
      snapshotter: parent.snapshotter,
      key,
      parent: parent.top,
      labels: {},
      owner,
      files: this.rng.chance(withFiles) ? this.rng.int(1, 3) : 0,
    };
  }

  container(withFiles: number): void {
    const image = this.rng.pick(this.plan.images);
    const id = this.rng.hex(64);
    const parent = this.top();
    this.plan.chains[2].push([this.active(id, parent, "seed", withFiles)]);
    this.plan.containers.push({ ns: this.ns, id, image: image.name, snapshotter: parent.snapshotter, snapshotKey: id });
  }

  lease(kind: LeaseKind, subtype: string): LeasePlan {
    const labels: Record<string, string> = {};
    let id = `${this.rng.int(100_000_000, 999_999_999)}-${this.rng.alnum(4)}`;
    if (kind === "active" || kind === "stale") {
      labels[L.expire] = "FUTURE"; // resolved when the lease is created
      if (this.ns === "moby") labels["moby/prune.images"] = "true";
    } else if (kind === "expired") {
      labels[L.expire] = "SOON";
    } else if (subtype === "docker-rw") {
      id = this.rng.hex(64);
    } else if (subtype === "buildkit") {
      id = this.rng.alnum(25).toLowerCase();
      labels[L.flat] = "";
    }
    const lease: LeasePlan = { ns: this.ns, id, kind, labels, attach: [] };
    this.plan.leases.push(lease);
    return lease;
  }
}

/** How many of each lease kind, largest remainder so the total is exact. */
function leaseKinds(total: number, mix: Profile["leaseMix"]): Record<LeaseKind, number> {
  const kinds: LeaseKind[] = ["active", "stale", "expired", "permanent"];
  const sum = kinds.reduce((a, k) => a + mix[k], 0);
  const exact = kinds.map((k) => (total * mix[k]) / sum);
  const out = exact.map(Math.floor);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0]);
  for (let r = total - out.reduce((a, b) => a + b, 0), j = 0; r > 0; r--, j++) out[order[j % 4]![1]]!++;
  return Object.fromEntries(kinds.map((k, i) => [k, out[i]!])) as Record<LeaseKind, number>;
}

export function buildPlan(profile: Profile): Plan {
  const namespaces = profile.namespaces.map(({ name, weight }) => {
    const rng = new Rng(`${profile.seed}/${name}`);
    const b = new NamespaceBuilder(name, rng, new Rng(`${profile.seed}/shared-bases`));
    const images = scaled(profile.images, weight, 1);
    b.bases(Math.max(1, Math.round(images / 15)));
    for (let i = 0; i < images; i++) b.image(profile.maxLayers);

    // Leases, by kind.
    const kinds = leaseKinds(scaled(profile.leases, weight, 4), profile.leaseMix);
    const leases = {
      active: Array.from({ length: kinds.active }, () => b.lease("active", "pull")),
      stale: Array.from({ length: kinds.stale }, () => b.lease("stale", "pull")),
      expired: Array.from({ length: kinds.expired }, () => b.lease("expired", "pull")),
      permanent: Array.from({ length: kinds.permanent }, (_, i) =>
        b.lease("permanent", name === "moby" && i % 3 !== 2 ? "docker-rw" : i % 3 === 1 || name === "buildkit" ? "buildkit" : "leaked"),
      ),
    };
    const ownerOf = (lease: LeasePlan): Owner => (lease.kind === "expired" ? "seed" : { lease: lease.id });
    const hold = (lease: LeasePlan, type: string, id: string) => {
      if (lease.kind === "expired") lease.attach.push({ type, id });
    };

    // Active snapshots: containers, Docker RW layers, cut unpacks, BuildKit mutable refs.
    const activeBudget = scaled(profile.activeSnapshots, weight, 1);
    const containers = Math.min(scaled(profile.containers, weight, 1), activeBudget);
    for (let i = 0; i < containers; i++) b.container(profile.activeWithFiles);
    let activeLeft = activeBudget - containers;
    for (const lease of leases.permanent) {
      if (activeLeft <= 0 || !/^[0-9a-f]{64}$/.test(lease.id)) continue;
      const parent = b.top();
      const init = { ns: name, snapshotter: parent.snapshotter, key: `${lease.id}-init-key`, name: `${lease.id}-init`, parent: parent.top, labels: {}, owner: ownerOf(lease), files: 0 };
      const rw = b.active(lease.id, { snapshotter: parent.snapshotter, top: init.name }, ownerOf(lease), profile.activeWithFiles);
      b.plan.chains[2].push([init, rw]);
      activeLeft--;
    }

    // Committed snapshots left for leases: cut unpacks (stale, expired) and BuildKit cache.
    const committedSoFar = () => b.plan.chains.flat(2).filter((s) => s.name !== undefined).length;
    const snapshotHolders = [...leases.stale, ...leases.expired, ...leases.permanent.filter((l) => L.flat in l.labels)];
    const committedLeft = Math.max(0, scaled(profile.snapshots - profile.activeSnapshots, weight) - committedSoFar());
    const perLeaseSnapshots = rng.split(committedLeft, snapshotHolders.length);
    // Blobs left for leases: what their pulls downloaded.
    const rootBlobs = scaled(profile.rootBlobs, weight);
    const blobHolders = [...leases.active, ...leases.stale, ...leases.expired, ...leases.permanent.filter((l) => !/^[0-9a-f]{64}$/.test(l.id))];
    const blobsLeft = Math.max(0, scaled(profile.blobs, weight) - b.plan.blobs.length - rootBlobs);
    const perLeaseBlobs = rng.split(blobsLeft, blobHolders.length);

    blobHolders.forEach((lease, i) => {
      const count = perLeaseBlobs[i] ?? 0;
      if (count === 0) return;
      const owner = ownerOf(lease);
      const layers = Array.from({ length: Math.max(0, count - 2) }, () => b.layer(owner));
      for (const l of layers) hold(lease, "content", l.digest);
      if (count >= 2) {
        const config = b.blob(json({ rootfs: { diff_ids: layers.map((l) => l.digest) }, lease: lease.id }), {}, owner);
        const labels: Record<string, string> = { [`${L.refContent}.config`]: config.digest };
        layers.forEach((l, j) => (labels[`${L.refContent}.l.${j}`] = l.digest));
        const manifest = b.blob(json({ schemaVersion: 2, config: config.digest, layers: layers.map((l) => l.digest) }), labels, owner);
        hold(lease, "content", config.digest);
        hold(lease, "content", manifest.digest);
      } else {
        hold(lease, "content", b.layer(owner).digest);
      }
    });
    snapshotHolders.forEach((lease, i) => {
      const count = perLeaseSnapshots[i] ?? 0;
      if (count === 0) return;
      const owner = ownerOf(lease);
      const snapshotter = b.snapshotter();
      const pseudoLayers = Array.from({ length: count }, () => ({ digest: sha256(`${lease.id}/${b.extractKey("x")}`) }) as BlobPlan);
      const { chain, top } = b.chainFor(pseudoLayers, "", snapshotter, owner);
      b.plan.chains[1].push(chain);
      for (const s of chain) hold(lease, `snapshots/${snapshotter}`, s.name as string);
      if (activeLeft > 0 && lease.kind !== "permanent") {
        // The unpack was cut while extracting the next layer.
        const extract = b.active(b.extractKey(sha256(`${top}/next`)), { snapshotter, top }, owner, profile.activeWithFiles);
        b.plan.chains[2].push([extract]);
        hold(lease, `snapshots/${snapshotter}`, extract.key);
        activeLeft--;
      }
    });
    // BuildKit mutable refs (active, held by permanent flat leases) take the rest of the active budget.
    const flatLeases = leases.permanent.filter((l) => L.flat in l.labels);
    const mutableHolders = flatLeases.length > 0 ? flatLeases : leases.permanent.length > 0 ? leases.permanent : leases.stale;
    for (let i = 0; activeLeft > 0 && mutableHolders.length > 0; i++, activeLeft--) {
      const lease = mutableHolders[i % mutableHolders.length] as LeasePlan;
      const chain = [b.active(rng.alnum(25).toLowerCase(), b.top(), ownerOf(lease), profile.activeWithFiles)];
      b.plan.chains[2].push(chain);
      hold(lease, `snapshots/${chain[0]!.snapshotter}`, chain[0]!.key);
    }
    // Leaked re-pull leases also hold (via AddResource) blobs that images use.
    for (const lease of leases.permanent.filter((l) => !(L.flat in l.labels) && !/^[0-9a-f]{64}$/.test(l.id))) {
      const image = rng.pick(b.plan.images);
      lease.attach.push({ type: "content", id: image.target.digest });
    }

    // Roots.
    for (let i = 0; i < rootBlobs; i++) b.blob(rng.bytes(rng.int(100, 2000)), { [L.root]: "true" }, "seed");

    // Ingests: one or more per active lease (what keeps it active), some on expired and
    // permanent leases, the rest unleased (kept 24h by containerd itself).
    const ingests = scaled(profile.ingests, weight, 1);
    const holders = [...leases.active, ...leases.active, ...leases.expired, ...leases.permanent.filter((l) => !/^[0-9a-f]{64}$/.test(l.id))];
    for (let i = 0; i < ingests; i++) {
      const total = rng.int(4096, 65536);
      const full = rng.bytes(total);
      const expected = sha256(full);
      const ref = `layer-${expected}`;
      b.plan.ingests.push({ ns: name, ref, data: full.subarray(0, rng.int(1, total - 1)), total, expected });
      const lease = i < leases.active.length ? leases.active[i] : rng.chance(0.75) ? holders[i % Math.max(1, holders.length)] : undefined;
      lease?.attach.push({ type: "ingests", id: ref });
    }

    // Created after the last GC: leases already expired, and data nothing references.
    const pastExpired = Math.round(profile.pastExpiredLeases * weight);
    for (let i = 0; i < pastExpired; i++) {
      const lease: LeasePlan = { ns: name, id: `${rng.int(100_000_000, 999_999_999)}-${rng.alnum(4)}`, kind: "expired", labels: { [L.expire]: "PAST" }, attach: [] };
      b.plan.final.leases.push(lease);
      const blob: BlobPlan = { ns: name, digest: "", data: rng.bytes(rng.int(200, 4000)), labels: {}, owner: { lease: lease.id }, final: true };
      blob.digest = sha256(blob.data);
      b.plan.final.blobs.push(blob);
    }
    for (let i = 0; i < Math.round(profile.unreferencedBlobs * weight); i++) {
      const data = rng.bytes(rng.int(200, 4000));
      b.plan.final.blobs.push({ ns: name, digest: sha256(data), data, labels: {}, owner: "none", final: true });
    }
    for (let i = 0; i < Math.round(profile.unreferencedSnapshots * weight); i++) {
      const { chain } = b.chainFor([{ digest: sha256(`orphan/${name}/${i}`) } as BlobPlan], "", "overlayfs", "none");
      b.plan.final.snapshots.push(chain);
    }
    return b.plan;
  });
  return { profile, namespaces };
}

export function planCounts(plan: Plan): PlanCounts {
  const all = plan.namespaces;
  const snapshots = all.flatMap((ns) => [...ns.chains.flat(2), ...ns.final.snapshots.flat()]);
  const leases = all.flatMap((ns) => [...ns.leases, ...ns.final.leases]);
  const byKind = { active: 0, stale: 0, expired: 0, permanent: 0 };
  for (const l of leases) byKind[l.kind]++;
  return {
    images: all.reduce((a, ns) => a + ns.images.length, 0),
    blobs: all.reduce((a, ns) => a + new Set([...ns.blobs, ...ns.final.blobs].map((b) => b.digest)).size, 0),
    snapshots: snapshots.length,
    activeSnapshots: snapshots.filter((s) => s.name === undefined).length,
    leases: leases.length,
    leasesByKind: byKind,
    ingests: all.reduce((a, ns) => a + ns.ingests.length, 0),
    containers: all.reduce((a, ns) => a + ns.containers.length, 0),
  };
}
