import { afterAll, afterEach, beforeAll } from "vitest";
import { FakeContainerd, type FakeData, type FakeNamespace } from "../support/fake-containerd.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { parseExposition, type Sample, sample, select } from "../support/exposition.js";

export const COLLECTORS = ["namespaces", "version", "leases", "content", "ingests", "snapshots", "images", "containers", "sandboxes"];

const HOUR = 3600;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
export const digest = (n: number | string) => `sha256:${n.toString(16).padStart(64, "0")}`;

/**
 * A small but complete namespace: an image with its blobs and unpacked
 * snapshot, a container on it, and one lease in each state (active, stale,
 * expired, leaked), the stuck ones holding a blob nothing else needs.
 */
export function sampleNamespace(tag: string, now = Date.now() / 1000): FakeNamespace {
  const d = (kind: string) => `sha256:${Buffer.from(`${tag}/${kind}`).toString("hex").padEnd(64, "0").slice(0, 64)}`;
  const [index, manifest, config, layer] = [d("index"), d("manifest"), d("config"), d("layer")];
  const orphan = (n: number) => d(`orphan-${n}`);
  const expiring = (hoursFromNow: number) => ({ "containerd.io/gc.expire": iso(now + hoursFromNow * HOUR) });
  return {
    leases: [
      { id: `${tag}-active`, createdAt: now - 60, labels: expiring(24), resources: [] },
      { id: `${tag}-stale`, createdAt: now - 3 * HOUR, labels: expiring(21), resources: [{ type: "content", id: orphan(1) }] },
      { id: `${tag}-expired`, createdAt: now - 48 * HOUR, labels: expiring(-1), resources: [{ type: "content", id: orphan(2) }] },
      { id: `${tag}-permanent`, createdAt: now - 10 * HOUR, resources: [{ type: "content", id: orphan(3) }] },
    ],
    content: [
      { digest: index, size: 500, createdAt: now - HOUR, labels: { "containerd.io/gc.ref.content.m.0": manifest } },
      {
        digest: manifest,
        size: 1000,
        createdAt: now - HOUR,
        labels: { "containerd.io/gc.ref.content.config": config, "containerd.io/gc.ref.content.l.0": layer },
      },
      { digest: config, size: 2000, createdAt: now - HOUR, labels: { "containerd.io/gc.ref.snapshot.overlayfs": "chain-1" } },
      { digest: layer, size: 100_000, createdAt: now - HOUR },
      { digest: orphan(1), size: 10_000, createdAt: now - 3 * HOUR },
      { digest: orphan(2), size: 20_000, createdAt: now - 48 * HOUR },
      { digest: orphan(3), size: 30_000, createdAt: now - 10 * HOUR },
    ],
    ingests: [],
    snapshots: {
      overlayfs: [
        { name: "chain-1", kind: "committed", createdAt: now - HOUR, size: 400_000, inodes: 100 },
        { name: `${tag}-container`, parent: "chain-1", kind: "active", createdAt: now - 60, size: 4096, inodes: 3 },
      ],
    },
    images: [{ name: `docker.io/library/${tag}:1`, target: { digest: index, size: 500 }, createdAt: now - HOUR }],
    containers: [
      { id: `${tag}-container`, image: `docker.io/library/${tag}:1`, snapshotter: "overlayfs", snapshotKey: `${tag}-container` },
    ],
  };
}

/** containerd_leases of sampleNamespace, summed over owners: one lease in each state but owned. */
export const SAMPLE_LEASES = { active: 1, stale: 1, expired: 1, leaked: 1, owned: 0 };

/** The real app and runtime pointed at the fake, configured with flags as a user would. */
export function appFor(fake: FakeContainerd, flags: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<TestApp> {
  return startTestApp([`--containerd.address=${fake.socketPath}`, ...flags], env);
}

export interface Scrape {
  status: number;
  elapsedMs: number;
  samples: Sample[];
  body: string;
}

export async function scrape(t: TestApp, timeoutSeconds?: number): Promise<Scrape> {
  const started = performance.now();
  const res = await t.app.inject({
    url: "/metrics",
    headers: timeoutSeconds === undefined ? {} : { "x-prometheus-scrape-timeout-seconds": String(timeoutSeconds) },
  });
  const elapsedMs = performance.now() - started;
  return { status: res.statusCode, elapsedMs, body: res.body, samples: res.statusCode === 200 ? parseExposition(res.body) : [] };
}

export function collectorSuccess(samples: Sample[]): Record<string, number> {
  return Object.fromEntries(
    select(samples, "containerd_scrape_collector_success").map((s) => [s.labels.collector as string, s.value]),
  );
}

/** containerd_leases of one namespace as { state: count }. */
/** containerd_leases per state, summed over owners. */
export function leasesOf(samples: Sample[], namespace: string): Record<string, number> {
  const byState: Record<string, number> = {};
  for (const s of select(samples, "containerd_leases", { namespace })) {
    const state = s.labels.state as string;
    byState[state] = (byState[state] ?? 0) + s.value;
  }
  return byState;
}

export const up = (samples: Sample[]) => sample(samples, "containerd_up");

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One fake containerd for the whole test file and one app per test on it: after
 * each test the app is closed and the fake's delays and errors are cleared.
 */
export function fakeForFile(data: FakeData): {
  readonly fake: FakeContainerd;
  app(flags?: string[], env?: NodeJS.ProcessEnv): Promise<TestApp>;
} {
  let fake: FakeContainerd | undefined;
  let current: TestApp | undefined;
  beforeAll(async () => {
    fake = await FakeContainerd.start({ data });
  });
  afterAll(() => fake?.dispose());
  afterEach(async () => {
    await current?.close();
    current = undefined;
    fake?.reset();
  });
  const started = () => {
    if (!fake) throw new Error("the fake containerd starts in beforeAll");
    return fake;
  };
  return {
    get fake() {
      return started();
    },
    app: async (flags = [], env = {}) => (current = await appFor(started(), flags, env)),
  };
}
