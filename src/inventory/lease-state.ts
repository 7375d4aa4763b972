import type { IngestStatus } from "../containerd/types.js";
import { LABEL, type LeaseState, type Policy } from "./states.js";
import type { LeaseEntry } from "./types.js";

// RFC 3339 as Go's time.RFC3339 accepts it; anything else containerd ignores.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The lease's expiry in epoch seconds, or null when it never expires (no label or one containerd cannot parse). */
export function leaseExpiry(labels: Record<string, string>): number | null {
  const text = labels[LABEL.expire];
  if (text === undefined || !RFC3339.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms / 1000;
}

export function isIdle(ingest: IngestStatus, policy: Policy, now: number): boolean {
  return (now - ingest.updatedAt) * 1000 >= policy.ingestIdleAfterMs;
}

/**
 * expired: expiry passed but GC has not run; permanent: never expires;
 * stale: old enough and none of its downloads moved lately; active: the rest,
 * an operation that may still be running.
 */
export function leaseState(
  lease: LeaseEntry,
  ingestsByRef: ReadonlyMap<string, IngestStatus>,
  policy: Policy,
  now: number,
): LeaseState {
  const expiry = leaseExpiry(lease.labels);
  if (expiry === null) return "permanent";
  if (expiry < now) return "expired";
  if ((now - lease.createdAt) * 1000 < policy.leaseStaleAfterMs) return "active";
  const writing = lease.resources.some((r) => {
    const ingest = r.type === "ingests" ? ingestsByRef.get(r.id) : undefined;
    return ingest !== undefined && !isIdle(ingest, policy, now);
  });
  return writing ? "active" : "stale";
}
