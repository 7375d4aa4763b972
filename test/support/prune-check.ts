import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { ContainerdClient } from "../../src/containerd/client.js";
import { InventoryReader } from "../../src/inventory/read.js";
import type { PruneReport } from "../../src/prune/pruner.js";
import { diskUsage, type DiskUsage } from "./disk.js";
import type { TestApp } from "./app.js";

/** A prune's prediction may differ from the disk by filesystem metadata: 64 KiB, plus 16 KiB per object removed. */
export const PRUNE_SLACK_BYTES = 64 * 1024;
export const PRUNE_SLACK_PER_OBJECT = 16 * 1024;

export interface MeasuredPrune {
  report: PruneReport;
  /** Disk bytes before − after, per resource and in total. */
  drop: DiskUsage & { total: number };
  /** Blobs, snapshots, ingests and leases that were there before and are not after, node-wide. */
  removedObjects: number;
}

async function objects(client: ContainerdClient): Promise<Set<string>> {
  const inventory = await new InventoryReader(client).read(Date.now() + 30_000);
  const keys = new Set<string>();
  for (const ns of inventory.namespaces) {
    for (const b of ns.content) keys.add(`${ns.name} content ${b.digest}`);
    for (const s of ns.snapshots) keys.add(`${ns.name} snapshot ${s.snapshotter}/${s.name}`);
    for (const i of ns.ingests) keys.add(`${ns.name} ingest ${i.ref}`);
    for (const l of ns.leases) keys.add(`${ns.name} lease ${l.id}`);
  }
  return keys;
}

/** The headers of an admin prune request with a JSON body. */
const pruneHeaders = (token: string) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });

/** POST /admin/prune with `body` into the app in this process; the answer as it came, whatever its status. */
export function injectPrune(app: TestApp["app"], token: string, body: object) {
  return app.inject({ method: "POST", url: "/admin/prune", headers: pruneHeaders(token), payload: JSON.stringify(body) });
}

/** POST /admin/prune with `body` to an exporter listening at `base` ("http://host:port"). */
export function fetchPrune(base: string, token: string, body: object, init: { signal?: AbortSignal } = {}): Promise<Response> {
  return fetch(`${base}/admin/prune`, { method: "POST", headers: pruneHeaders(token), body: JSON.stringify(body), ...init });
}

/** POST /admin/prune with `body`; anything but 200 fails the test with the answer's text. */
export async function postPrune(t: TestApp, token: string, body: object): Promise<PruneReport> {
  const res = await injectPrune(t.app, token, body);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as PruneReport;
}

/** POST /admin/prune with `body`, measuring containerd's root on disk around it. */
export async function measuredPrune(t: TestApp, token: string, root: string, client: ContainerdClient, body: object): Promise<MeasuredPrune> {
  const before = diskUsage(root);
  const objectsBefore = await objects(client);
  const report = await postPrune(t, token, body);
  const after = diskUsage(root);
  const objectsAfter = await objects(client);
  const drop = {
    content: before.content - after.content,
    snapshot: before.snapshot - after.snapshot,
    ingest: before.ingest - after.ingest,
  };
  return {
    report,
    drop: { ...drop, total: drop.content + drop.snapshot + drop.ingest },
    removedObjects: [...objectsBefore].filter((k) => !objectsAfter.has(k)).length,
  };
}

/** What the prune predicted is what left the disk, within the slack. */
export function expectPredictedIsDrop(m: MeasuredPrune): void {
  const slack = PRUNE_SLACK_BYTES + PRUNE_SLACK_PER_OBJECT * m.removedObjects;
  const detail = JSON.stringify({ predicted: m.report.bytes.predicted, drop: m.drop, removed: m.removedObjects });
  expect(Math.abs(m.report.bytes.predicted.total - m.drop.total), detail).toBeLessThanOrEqual(slack);
  expect(Math.abs(m.report.bytes.predicted.content - m.drop.content), detail).toBeLessThanOrEqual(slack);
}

/** sha256 of a blob's file in the content store, or null when the file is gone. */
export function blobFileDigest(root: string, digest: string): string | null {
  const path = join(root, "io.containerd.content.v1.content", "blobs", "sha256", digest.replace(/^sha256:/, ""));
  try {
    return `sha256:${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
  } catch {
    return null;
  }
}

/** sha256 of a file's contents, or null when it is gone. */
export function fileDigest(path: string): string | null {
  try {
    return `sha256:${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
  } catch {
    return null;
  }
}
