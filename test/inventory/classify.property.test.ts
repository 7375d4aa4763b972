/**
 * Random inventories (seeded, so failures reproduce) checked against a naive
 * oracle written from the rules, not from the implementation: a node's state is
 * the best level over every root that reaches it (a flat root reaches itself,
 * its snapshot parents and an image's target, never labels), found by a
 * separate walk from each root.
 */
import { describe, expect, it } from "vitest";
import { classify } from "../../src/inventory/classify.js";
import {
  DEFAULT_POLICY,
  INGEST_STATES,
  LABEL,
  type LeaseState,
  RESOURCE_STATES,
  type ResourceState,
  STORE_RESOURCES,
} from "../../src/inventory/states.js";
import type { Labels, LeaseResource } from "../../src/containerd/types.js";
import type { Inventory, NamespaceInventory } from "../../src/inventory/types.js";
import { blob, container, HOUR, image, ingest, inventory, lease, namespace, NOW, res, rfc3339, snapshot } from "./builders.js";

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Generated {
  inv: Inventory;
  /** What each lease's gc.expire means (null: never expires), by namespace and lease id. */
  expiry: Map<string, number | null>;
}

const SNAPSHOTTERS = ["overlayfs", "native"] as const;

function generate(seed: number): Generated {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => rnd() < p;
  const hex = (n: number) => n.toString(16).padStart(64, "0");
  const pool = Array.from({ length: 150 }, (_, i) => `sha256:${hex(i + 1)}`);
  const expiry = new Map<string, number | null>();

  const namespaces: NamespaceInventory[] = [];
  const nsCount = 2 + int(2);
  for (let n = 0; n < nsCount; n++) {
    const name = `ns${n}`;
    const digests = pool.filter(() => chance(0.6));
    const keys = Array.from({ length: 60 + int(40) }, (_, i) => `snap-${i}`);
    const snapKeys = keys.map((k) => [pick(SNAPSHOTTERS), k] as const);
    const ingestRefs = Array.from({ length: 10 + int(15) }, (_, i) => `ingest-${i}`);
    const imageNames = Array.from({ length: 2 + int(5) }, (_, i) => `img-${i}`);

    const refLabels = (): Labels => {
      const labels: Labels = {};
      const count = int(4);
      for (let i = 0; i < count; i++) {
        const target = chance(0.9) ? pick(pool) : `sha256:${hex(9999)}`; // sometimes a digest nobody has
        const form = int(5);
        if (form === 0) labels[LABEL.refContent] = target;
        else if (form === 1) labels[`${LABEL.refContent}.l.${i}`] = target;
        else if (form === 2) labels[`${LABEL.refContent}/x${i}`] = target;
        else if (form === 3) labels[`${LABEL.refContent}foo${i}`] = target; // not an edge
        else labels[`${LABEL.refContent}.m.${i}`] = target;
      }
      if (chance(0.3)) {
        const [sn, key] = pick(snapKeys);
        const other = chance(0.2) ? SNAPSHOTTERS.find((s) => s !== sn)! : sn; // sometimes the wrong snapshotter
        labels[`${LABEL.refSnapshot}${other}${chance(0.5) ? "/top" : ""}`] = chance(0.9) ? key : "missing-key";
      }
      if (chance(0.04)) labels[LABEL.root] = "";
      return labels;
    };

    const content = digests.map((d) => blob(d, 1 + int(10_000), refLabels()));
    const snapshots = snapKeys.map(([sn, key], i) => {
      const parentRoll = rnd();
      const parent =
        parentRoll < 0.3 ? "" : parentRoll < 0.85 && i > 0 ? keys[int(i)]! : parentRoll < 0.95 ? pick(keys) : "gone-parent";
      return snapshot(sn, key, {
        parent,
        kind: pick(["active", "committed", "view"] as const),
        usage: chance(0.1) ? null : int(1_000_000),
        labels: chance(0.2) ? refLabels() : {},
      });
    });
    const ingests = ingestRefs.map((r) => ingest(r, { offset: int(50_000), updatedAt: NOW - int(2 * HOUR) }));
    const images = imageNames.map((m) => image(m, chance(0.9) ? pick(pool) : `sha256:${hex(8888)}`, chance(0.3) ? refLabels() : {}));
    const containers = Array.from({ length: int(4) }, (_, i) => {
      const [sn, key] = pick(snapKeys);
      return container(`ctr-${i}`, sn, chance(0.85) ? key : "missing-rw", chance(0.3) ? refLabels() : {});
    });

    const resource = (): LeaseResource => {
      const kind = int(10);
      if (kind < 3) return res.content(chance(0.9) ? pick(pool) : `sha256:${hex(7777)}`);
      if (kind < 6) {
        const [sn, key] = pick(snapKeys);
        return res.snapshot(sn, key);
      }
      if (kind < 8) return res.ingest(chance(0.9) ? pick(ingestRefs) : "gone-ingest");
      if (kind < 9) return res.image(pick(imageNames));
      return { type: "sandboxes", id: "x" };
    };
    const leases = Array.from({ length: 15 + int(20) }, (_, i) => {
      const id = `lease-${i}`;
      const roll = int(5);
      let expire: number | string | null;
      let meaning: number | null;
      if (roll === 0) [expire, meaning] = [null, null];
      else if (roll === 1) [expire, meaning] = [pick(["tomorrow", "2026-13-45T00:00:00Z", "2020-02-30T00:00:00Z"]), null];
      else if (roll === 2) [expire, meaning] = [NOW - 1 - int(HOUR), 0];
      else [expire, meaning] = [NOW + 1 + int(24 * HOUR), 0];
      if (typeof expire === "number") meaning = expire;
      expiry.set(`${name}/${id}`, meaning);
      return lease(id, {
        createdAt: NOW - int(3 * HOUR),
        expire,
        labels: chance(0.2) ? { [LABEL.flat]: "1" } : {},
        resources: Array.from({ length: 1 + int(5) }, resource),
      });
    });
    namespaces.push(
      namespace(name, {
        content,
        snapshots,
        ingests,
        images,
        containers,
        leases,
        failed: n === nsCount - 1 && chance(0.5) ? ["containers"] : [],
      }),
    );
  }
  return { inv: inventory(namespaces), expiry };
}

// --- the oracle -----------------------------------------------------------

// Refused (holding a container's snapshot), owned and leaked leases pin; expired ones are no root at all.
const LEVEL_OF: Record<LeaseState, number> = { owned: 1, leaked: 1, active: 2, stale: 3, expired: 3 };

function oracle(g: Generated) {
  const policy = DEFAULT_POLICY;
  const perNs = g.inv.namespaces.map((ns) => {
    const exists = new Map<string, number>(); // node → bytes
    const edges = new Map<string, string[]>();
    const flatEdges = new Map<string, string[]>();
    const labelEdges = (labels: Labels): string[] =>
      Object.entries(labels).flatMap(([k, v]) => {
        if (/^containerd\.io\/gc\.ref\.content([./].*)?$/.test(k)) return [`c|${v}`];
        const m = /^containerd\.io\/gc\.ref\.snapshot\.([^/]+)(\/.*)?$/.exec(k);
        return m ? [`s|${m[1]}|${v}`] : [];
      });
    for (const b of ns.content) {
      exists.set(`c|${b.digest}`, b.size);
      edges.set(`c|${b.digest}`, labelEdges(b.labels));
    }
    for (const s of ns.snapshots) {
      exists.set(`s|${s.snapshotter}|${s.name}`, s.usage === null ? 0 : s.usage.size);
      edges.set(`s|${s.snapshotter}|${s.name}`, [...labelEdges(s.labels), ...(s.parent ? [`s|${s.snapshotter}|${s.parent}`] : [])]);
      flatEdges.set(`s|${s.snapshotter}|${s.name}`, s.parent ? [`s|${s.snapshotter}|${s.parent}`] : []);
    }
    for (const i of ns.ingests) exists.set(`i|${i.ref}`, i.offset);
    for (const m of ns.images) {
      exists.set(`m|${m.name}`, 0);
      edges.set(`m|${m.name}`, [`c|${m.target.digest}`, ...labelEdges(m.labels)]);
      flatEdges.set(`m|${m.name}`, [`c|${m.target.digest}`]);
    }
    const closure = (start: string, flat: boolean): Set<string> => {
      const seen = new Set<string>();
      if (!exists.has(start)) return seen;
      seen.add(start);
      const queue = [start];
      for (let at = 0; at < queue.length; at++) {
        for (const next of (flat ? flatEdges : edges).get(queue[at]!) ?? []) {
          if (exists.has(next) && !seen.has(next)) {
            seen.add(next);
            queue.push(next);
          }
        }
      }
      return seen;
    };
    const resourceKey = (r: LeaseResource): string | undefined =>
      r.type === "content"
        ? `c|${r.id}`
        : r.type === "ingests"
          ? `i|${r.id}`
          : r.type === "images"
            ? `m|${r.id}`
            : r.type.startsWith("snapshots/")
              ? `s|${r.type.slice(10)}|${r.id}`
              : undefined;

    const ingestsByRef = new Map(ns.ingests.map((i) => [i.ref, i]));
    const idle = (updatedAt: number) => (NOW - updatedAt) * 1000 >= policy.ingestIdleAfterMs;
    const leaseStates = ns.leases.map((l): LeaseState => {
      const exp = g.expiry.get(`${ns.name}/${l.id}`);
      if (exp === undefined) throw new Error("generator lost a lease");
      // A flat lease is BuildKit's (owner rule): owned when it never expires; the others belong to no one.
      if (exp === null) return LABEL.flat in l.labels ? "owned" : "leaked";
      if (exp < NOW) return "expired";
      if ((NOW - l.createdAt) * 1000 < policy.leaseStaleAfterMs) return "active";
      const writing = l.resources.some((r) => {
        const i = r.type === "ingests" ? ingestsByRef.get(r.id) : undefined;
        return i !== undefined && !idle(i.updatedAt);
      });
      return writing ? "active" : "stale";
    });

    const level = new Map<string, number>();
    const mark = (start: string, flat: boolean, lvl: number) => {
      for (const node of closure(start, flat)) level.set(node, Math.min(level.get(node) ?? 99, lvl));
    };
    for (const m of ns.images) mark(`m|${m.name}`, false, 0);
    for (const c of ns.containers) {
      if (c.snapshotKey) mark(`s|${c.snapshotter}|${c.snapshotKey}`, false, 0);
      for (const e of labelEdges(c.labels)) mark(e, false, 0);
    }
    for (const b of ns.content) if (LABEL.root in b.labels) mark(`c|${b.digest}`, false, 0);
    for (const s of ns.snapshots) if (LABEL.root in s.labels) mark(`s|${s.snapshotter}|${s.name}`, false, 0);
    const containerSnapshots = new Set(ns.containers.filter((c) => c.snapshotKey).map((c) => `snapshots/${c.snapshotter}|${c.snapshotKey}`));
    const refused = ns.leases.map((l) => l.resources.some((r) => containerSnapshots.has(`${r.type}|${r.id}`)));
    ns.leases.forEach((l, i) => {
      const flat = LABEL.flat in l.labels;
      const state = leaseStates[i]!;
      const lvl = refused[i] && state !== "expired" ? 1 : LEVEL_OF[state];
      for (const r of l.resources) {
        const key = resourceKey(r);
        if (key) mark(key, flat && r.type !== "ingests", lvl);
      }
    });
    // An ingest no lease holds stays (its internal expiry) unless the prune aborts it, idle.
    const heldIngests = new Set(ns.leases.flatMap((l) => l.resources.filter((r) => r.type === "ingests").map((r) => r.id)));
    for (const ing of ns.ingests) if (!heldIngests.has(ing.ref)) mark(`i|${ing.ref}`, false, idle(ing.updatedAt) ? 3 : 2);
    const stateOf = (node: string): ResourceState => RESOURCE_STATES[level.get(node) ?? 4]!;

    const heldBytes = ns.leases.map((l, i) => {
      const flat = LABEL.flat in l.labels;
      const reached = new Set<string>();
      for (const r of l.resources) {
        const key = resourceKey(r);
        if (key) for (const node of closure(key, flat)) reached.add(node);
      }
      let total = 0;
      for (const node of reached) if (level.get(node) !== 0) total += exists.get(node)!;
      return total;
    });
    const ingestStates = ns.ingests.map((ing) => {
      const lvl = level.get(`i|${ing.ref}`) ?? 3;
      return lvl <= 1 ? "pinned" : lvl === 2 ? "leased" : "stale";
    });
    return {
      leaseStates,
      heldBytes,
      content: ns.content.map((b) => stateOf(`c|${b.digest}`)),
      snapshots: ns.snapshots.map((s) => stateOf(`s|${s.snapshotter}|${s.name}`)),
      ingests: ingestStates,
    };
  });

  // node totals
  const store = { content: 0, snapshot: 0, ingest: 0 };
  const reclaimable = { content: 0, snapshot: 0, ingest: 0 };
  const free = (s: string) => s === "stale" || s === "unreferenced";
  const digests = new Map<string, { size: number; ok: boolean }>();
  g.inv.namespaces.forEach((ns, n) => {
    const complete = ns.failed.length === 0;
    const o = perNs[n]!;
    ns.content.forEach((b, i) => {
      const prev = digests.get(b.digest);
      digests.set(b.digest, { size: b.size, ok: (prev?.ok ?? true) && complete && free(o.content[i]!) });
    });
    ns.snapshots.forEach((s, i) => {
      const bytes = s.usage?.size ?? 0;
      store.snapshot += bytes;
      if (complete && free(o.snapshots[i]!)) reclaimable.snapshot += bytes;
    });
    ns.ingests.forEach((ing, i) => {
      store.ingest += ing.offset;
      if (complete && o.ingests[i] === "stale") reclaimable.ingest += ing.offset;
    });
  });
  for (const d of digests.values()) {
    store.content += d.size;
    if (d.ok) reclaimable.content += d.size;
  }
  return { perNs, store, reclaimable };
}

describe("classify on random inventories", () => {
  const seeds = [1, 2, 42, 1234, 0xc0ffee, 987654321];

  it.each(seeds)("seed %i: every object gets exactly one valid state, matching the oracle", (seed) => {
    const g = generate(seed);
    const objects = g.inv.namespaces.reduce((n, ns) => n + ns.content.length + ns.snapshots.length + ns.ingests.length, 0);
    expect(objects).toBeGreaterThan(200);

    const out = classify(g.inv, DEFAULT_POLICY, NOW);
    const want = oracle(g);
    expect(out.namespaces).toHaveLength(g.inv.namespaces.length);
    out.namespaces.forEach((ns, n) => {
      const input = g.inv.namespaces[n]!;
      const o = want.perNs[n]!;
      // one classified entry per input object, in order, each with one known state
      expect(ns.content.map((b) => b.digest)).toEqual(input.content.map((b) => b.digest));
      expect(ns.snapshots.map((s) => `${s.snapshotter}/${s.name}`)).toEqual(input.snapshots.map((s) => `${s.snapshotter}/${s.name}`));
      for (const item of [...ns.content, ...ns.snapshots]) expect(RESOURCE_STATES).toContain(item.state);
      for (const item of ns.ingests) expect(INGEST_STATES).toContain(item.state);

      expect(ns.complete).toBe(input.failed.length === 0);
      expect(ns.leases.map((l) => l.state)).toEqual(o.leaseStates);
      expect(ns.content.map((b) => b.state)).toEqual(o.content);
      expect(ns.snapshots.map((s) => s.state)).toEqual(o.snapshots);
      expect(ns.ingests.map((i) => i.state)).toEqual(o.ingests);
      expect(ns.leases.map((l) => l.heldBytes)).toEqual(o.heldBytes);
    });
    expect(out.store).toEqual(want.store);
    expect(out.reclaimable).toEqual(want.reclaimable);
    for (const r of STORE_RESOURCES) {
      expect(out.reclaimable[r]).toBeGreaterThanOrEqual(0);
      expect(out.reclaimable[r]).toBeLessThanOrEqual(out.store[r]);
    }
  });

  it("the generator exercises every state (so the oracle comparison means something)", () => {
    const seen = new Set<string>();
    for (const seed of seeds) {
      const out = classify(generate(seed).inv, DEFAULT_POLICY, NOW);
      for (const ns of out.namespaces) {
        for (const x of [...ns.content, ...ns.snapshots]) seen.add(`r:${x.state}`);
        for (const x of ns.ingests) seen.add(`i:${x.state}`);
        for (const x of ns.leases) seen.add(`l:${x.state}${x.flat ? "+flat" : ""}`);
        if (!ns.complete) seen.add("incomplete");
      }
    }
    for (const s of RESOURCE_STATES) expect(seen).toContain(`r:${s}`);
    for (const s of INGEST_STATES) expect(seen).toContain(`i:${s}`);
    for (const s of ["active", "stale", "expired"]) {
      expect(seen).toContain(`l:${s}`);
      expect(seen).toContain(`l:${s}+flat`);
    }
    // Never-expiring: flat ones are BuildKit's cache (owned), the rest leaked.
    expect(seen).toContain("l:owned+flat");
    expect(seen).toContain("l:leaked");
    expect(seen).toContain("incomplete");
  });

  it("rfc3339 helper round-trips through the lease expiry", () => {
    const g = generate(7);
    const out = classify(g.inv, DEFAULT_POLICY, NOW);
    for (const ns of out.namespaces) {
      for (const l of ns.leases) {
        const meant = g.expiry.get(`${ns.name}/${l.id}`);
        expect(l.expiresAt).toBe(meant);
        if (typeof meant === "number") expect(l.labels[LABEL.expire]).toBe(rfc3339(meant));
      }
    }
  });
});
