import type { Timestamp__Output } from "./generated/google/protobuf/Timestamp.js";
import type { SnapshotKind } from "./types.js";

/** proto-loader hands int64 over as a decimal string (longs: String). */
export function int64(value: string | number | null | undefined): number {
  return value === null || value === undefined || value === "" ? 0 : Number(value);
}

export function seconds(ts: Timestamp__Output | null | undefined): number {
  if (!ts) return 0;
  return int64(ts.seconds) + ts.nanos / 1e9;
}

const KINDS: Record<string, SnapshotKind> = { VIEW: "view", ACTIVE: "active", COMMITTED: "committed" };

export function snapshotKind(kind: string): SnapshotKind {
  return KINDS[kind] ?? "unknown";
}
