import type { SnapshotUsage } from "../containerd/types.js";

interface Entry {
  createdAt: number;
  usage: SnapshotUsage;
  /** The read generation that last saw it. */
  seen: number;
}

/**
 * Usage of committed snapshots, which are immutable: read once per snapshot
 * lifetime. An entry is tied to the snapshot's creation time, so that a snapshot
 * removed and created again under the same name is measured again.
 *
 * Kept as namespace → snapshotter → name maps (no composite key strings to build
 * and hash for every snapshot on every scrape); "seen" is a generation stamp.
 */
export class UsageCache {
  private entries = new Map<string, Map<string, Map<string, Entry>>>();
  private generation = 0;

  get size(): number {
    let n = 0;
    for (const bySnapshotter of this.entries.values()) for (const byName of bySnapshotter.values()) n += byName.size;
    return n;
  }

  get(namespace: string, snapshotter: string, name: string, createdAt: number): SnapshotUsage | undefined {
    const entry = this.entries.get(namespace)?.get(snapshotter)?.get(name);
    if (entry === undefined || entry.createdAt !== createdAt) return undefined;
    entry.seen = this.generation;
    return entry.usage;
  }

  set(namespace: string, snapshotter: string, name: string, createdAt: number, usage: SnapshotUsage): void {
    let bySnapshotter = this.entries.get(namespace);
    if (!bySnapshotter) this.entries.set(namespace, (bySnapshotter = new Map()));
    let byName = bySnapshotter.get(snapshotter);
    if (!byName) bySnapshotter.set(snapshotter, (byName = new Map()));
    byName.set(name, { createdAt, usage, seen: this.generation });
  }

  /** After a complete read: forget snapshots that no longer exist. */
  sweep(): void {
    for (const [namespace, bySnapshotter] of this.entries) {
      for (const [snapshotter, byName] of bySnapshotter) {
        for (const [name, entry] of byName) if (entry.seen !== this.generation) byName.delete(name);
        if (byName.size === 0) bySnapshotter.delete(snapshotter);
      }
      if (bySnapshotter.size === 0) this.entries.delete(namespace);
    }
    this.generation++;
  }

  /** After an incomplete read nothing can be forgotten safely. */
  resetSeen(): void {
    this.generation++;
  }
}
