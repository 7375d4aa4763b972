// What each benchmark profile puts into containerd. Counts are node-wide and split over the
// namespaces by weight; the seeder reaches them approximately (images share base layers, so
// blobs and snapshots are filled up to the target by what leases hold).

export interface LeaseMix {
  /** Future gc.expire and a download still being written (a non-idle ingest). */
  active: number;
  /** Future gc.expire, nothing being written: an abandoned pull or unpack. */
  stale: number;
  /** gc.expire already passed, GC has not run since. */
  expired: number;
  /** No gc.expire: Docker container layers, BuildKit cache (gc.flat), leaked re-pull leases. */
  permanent: number;
}

export interface Profile {
  name: "smoke" | "node" | "ci-host" | "large";
  seed: string;
  namespaces: { name: string; weight: number }[];
  images: number;
  /** Layers per image: 1..maxLayers; a share starts from a shared base chain. */
  maxLayers: number;
  blobs: number;
  snapshots: number;
  /** Of `snapshots`, how many are active (Prepare without Commit). */
  activeSnapshots: number;
  /** Share of active snapshots that get a small file written (what Usage then walks). */
  activeWithFiles: number;
  leases: number;
  leaseMix: LeaseMix;
  ingests: number;
  containers: number;
  /** Blobs labelled containerd.io/gc.root. */
  rootBlobs: number;
  /**
   * Truly unreferenced objects and leases created with an already past gc.expire: created
   * after the last garbage collection, within containerd's 100-mutation GC trigger.
   */
  unreferencedBlobs: number;
  unreferencedSnapshots: number;
  pastExpiredLeases: number;
  /** Seeding calls in flight at once. */
  concurrency: number;
}

export const PROFILES: Record<Profile["name"], Profile> = {
  smoke: {
    name: "smoke",
    seed: "bench-smoke-1",
    namespaces: [
      { name: "moby", weight: 0.6 },
      { name: "k8s.io", weight: 0.4 },
    ],
    images: 6,
    maxLayers: 4,
    blobs: 60,
    snapshots: 30,
    activeSnapshots: 6,
    activeWithFiles: 0.5,
    leases: 8,
    leaseMix: { active: 0.25, stale: 0.25, expired: 0.25, permanent: 0.25 },
    ingests: 4,
    containers: 2,
    rootBlobs: 1,
    unreferencedBlobs: 4,
    unreferencedSnapshots: 2,
    pastExpiredLeases: 1,
    concurrency: 16,
  },
  node: {
    name: "node",
    seed: "bench-node-1",
    namespaces: [
      { name: "moby", weight: 0.5 },
      { name: "k8s.io", weight: 0.35 },
      { name: "default", weight: 0.15 },
    ],
    images: 200,
    maxLayers: 12,
    blobs: 4000,
    snapshots: 2000,
    activeSnapshots: 100,
    activeWithFiles: 0.5,
    leases: 50,
    leaseMix: { active: 0.2, stale: 0.3, expired: 0.2, permanent: 0.3 },
    ingests: 20,
    containers: 40,
    rootBlobs: 10,
    unreferencedBlobs: 18,
    unreferencedSnapshots: 10,
    pastExpiredLeases: 3,
    concurrency: 32,
  },
  "ci-host": {
    name: "ci-host",
    seed: "bench-ci-host-1",
    namespaces: [
      { name: "moby", weight: 0.4 },
      { name: "k8s.io", weight: 0.3 },
      { name: "default", weight: 0.15 },
      { name: "buildkit", weight: 0.15 },
    ],
    images: 1000,
    maxLayers: 10,
    blobs: 20_000,
    snapshots: 10_000,
    activeSnapshots: 1000,
    activeWithFiles: 0.5,
    leases: 2000,
    leaseMix: { active: 0.15, stale: 0.35, expired: 0.2, permanent: 0.3 },
    ingests: 500,
    containers: 200,
    rootBlobs: 50,
    unreferencedBlobs: 16,
    unreferencedSnapshots: 10,
    pastExpiredLeases: 4,
    concurrency: 48,
  },
  // How memory grows with the store: five times ci-host's blobs and snapshots.
  large: {
    name: "large",
    seed: "bench-large-1",
    namespaces: [
      { name: "moby", weight: 0.4 },
      { name: "k8s.io", weight: 0.3 },
      { name: "default", weight: 0.15 },
      { name: "buildkit", weight: 0.15 },
    ],
    images: 5000,
    maxLayers: 10,
    blobs: 100_000,
    snapshots: 50_000,
    activeSnapshots: 2000,
    activeWithFiles: 0.25,
    leases: 2000,
    leaseMix: { active: 0.15, stale: 0.35, expired: 0.2, permanent: 0.3 },
    ingests: 500,
    containers: 500,
    rootBlobs: 100,
    unreferencedBlobs: 16,
    unreferencedSnapshots: 10,
    pastExpiredLeases: 4,
    concurrency: 64,
  },
};

export function profileByName(name: string): Profile {
  const profile = (PROFILES as Record<string, Profile>)[name];
  if (!profile) throw new Error(`unknown profile ${JSON.stringify(name)}; one of ${Object.keys(PROFILES).join(", ")}`);
  return profile;
}

/** The exporter policy the benchmark runs with (see BENCHMARKS.md: why stale-after is short). */
export const BENCH_POLICY_FLAGS = ["--lease.stale-after=1s", "--ingest.idle-after=24h"];
