import type { IngestStatus } from "../containerd/types.js";
import { LABEL, type LeaseState, type Policy } from "./states.js";
import type { LeaseEntry } from "./types.js";

// RFC 3339 as Go's time.Parse(time.RFC3339, …) accepts it; anything else containerd ignores.
// Go range-checks every field (the day against its month, unlike Date.parse, which takes
// 2025-02-30 and 24:00), allows a one-digit hour, a ',' before the fraction and zone
// offsets up to 24:60.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** The lease's expiry in epoch seconds, or null when it never expires (no label or one containerd cannot parse). */
export function leaseExpiry(labels: Record<string, string>): number | null {
  const text = labels[LABEL.expire];
  const m = text === undefined ? null : RFC3339.exec(text);
  if (!m) return null;
  const [year, month, day, hour, min, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const [zoneHour, zoneMin] = [Number(m[9] ?? 0), Number(m[10] ?? 0)];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return null;
  if (hour > 23 || min > 59 || sec > 59 || zoneHour > 24 || zoneMin > 60) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC: it maps years 0-99 to 1900-1999
  date.setUTCHours(hour, min, sec, 0);
  const offset = (zoneHour * 60 + zoneMin) * 60 * (m[8] === "-" ? -1 : 1);
  return date.getTime() / 1000 + Number(`0.${m[7] ?? "0"}`) - offset;
}

export function isIdle(ingest: IngestStatus, policy: Policy, now: number): boolean {
  return (now - ingest.updatedAt) * 1000 >= policy.ingestIdleAfterMs;
}

/**
 * expired: expiry passed but GC has not run; never expires: owned when its
 * owner keeps such leases on purpose, leaked otherwise; stale: old enough and
 * none of its downloads moved lately; active: the rest, an operation that may
 * still be running.
 */
export function leaseState(
  lease: LeaseEntry,
  ingestsByRef: ReadonlyMap<string, IngestStatus>,
  policy: Policy,
  now: number,
  ownerKeeps = false,
): LeaseState {
  const expiry = leaseExpiry(lease.labels);
  if (expiry === null) return ownerKeeps ? "owned" : "leaked";
  if (expiry < now) return "expired";
  if ((now - lease.createdAt) * 1000 < policy.leaseStaleAfterMs) return "active";
  const writing = lease.resources.some((r) => {
    const ingest = r.type === "ingests" ? ingestsByRef.get(r.id) : undefined;
    return ingest !== undefined && !isIdle(ingest, policy, now);
  });
  return writing ? "active" : "stale";
}
