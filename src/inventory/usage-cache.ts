import type { SnapshotUsage } from "../containerd/types.js";

/**
 * Usage of committed snapshots, which are immutable: read once per snapshot
 * lifetime. The key includes the creation time so that a snapshot removed and
 * created again under the same name is measured again.
 */
export class UsageCache {
  private entries = new Map<string, SnapshotUsage>();
  private seen = new Set<string>();

  static key(namespace: string, snapshotter: string, name: string, createdAt: number): string {
    return `${namespace}\u0000${snapshotter}\u0000${name}\u0000${createdAt}`;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): SnapshotUsage | undefined {
    this.seen.add(key);
    return this.entries.get(key);
  }

  set(key: string, usage: SnapshotUsage): void {
    this.seen.add(key);
    this.entries.set(key, usage);
  }

  /** After a complete read: forget snapshots that no longer exist. */
  sweep(): void {
    for (const key of this.entries.keys()) if (!this.seen.has(key)) this.entries.delete(key);
    this.seen = new Set();
  }

  /** After an incomplete read nothing can be forgotten safely. */
  resetSeen(): void {
    this.seen = new Set();
  }
}
