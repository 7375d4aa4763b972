import { lstatSync, readdirSync, type Stats } from "node:fs";
import { join } from "node:path";

/** What containerd's store really occupies under its root, measured from the files. */
export interface DiskUsage {
  /** Apparent sizes of io.containerd.content.v1.content/blobs/sha256/*. */
  content: number;
  /** Apparent sizes of the ingests' data files. */
  ingest: number;
  /** Allocated blocks of everything under the overlayfs snapshotter's snapshots/ (what `du` counts). */
  snapshot: number;
}

function walk(path: string, visit: (path: string, stat: Stats) => void): void {
  let stat: Stats;
  try {
    stat = lstatSync(path);
  } catch {
    return; // removed while we looked
  }
  visit(path, stat);
  if (!stat.isDirectory()) return;
  let names: string[] = [];
  try {
    names = readdirSync(path);
  } catch {
    return;
  }
  for (const name of names) walk(join(path, name), visit);
}

function sum(path: string, measure: (path: string, stat: Stats) => number): number {
  let total = 0;
  walk(path, (p, s) => (total += measure(p, s)));
  return total;
}

export function diskUsage(root: string): DiskUsage {
  const store = join(root, "io.containerd.content.v1.content");
  return {
    content: sum(join(store, "blobs", "sha256"), (_p, s) => (s.isFile() ? Number(s.size) : 0)),
    ingest: sum(join(store, "ingest"), (p, s) => (s.isFile() && p.endsWith("/data") ? Number(s.size) : 0)),
    snapshot: sum(join(root, "io.containerd.snapshotter.v1.overlayfs", "snapshots"), (_p, s) =>
      s.isDirectory() ? 0 : Number(s.blocks) * 512,
    ),
  };
}
