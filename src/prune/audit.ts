import type { FastifyBaseLogger } from "fastify";
import * as grpc from "@grpc/grpc-js";
import { ContainerdError } from "../containerd/errors.js";

/** The two kinds of deletion a prune makes. */
export type AuditAction = "lease-delete" | "ingest-abort";

export interface AuditTarget {
  action: AuditAction;
  namespace: string;
  /** Lease id or ingest ref. */
  id: string;
  bytes: number;
}

/**
 * How a delete call ended. "unknown" is a call containerd may still carry
 * out: it timed out or the connection dropped after the request left.
 */
export type AuditOutcome = "deleted" | "gone" | "not-deleted" | `failed: ${string}` | `unknown: ${string}`;

/** Codes after which the request may have reached containerd and may yet be applied. */
const UNKNOWN_CODES = new Set([grpc.status.DEADLINE_EXCEEDED, grpc.status.UNAVAILABLE, grpc.status.CANCELLED, grpc.status.UNKNOWN]);

export function outcomeOf(error: unknown): AuditOutcome {
  if (error instanceof ContainerdError) {
    if (error.code === grpc.status.NOT_FOUND) return "gone";
    if (error.code === grpc.status.DEADLINE_EXCEEDED) return "unknown: timed out";
    if (UNKNOWN_CODES.has(error.code)) return `unknown: ${error.message}`;
    return `failed: ${error.message}`;
  }
  return `unknown: ${(error as Error).message}`;
}

/**
 * The audit trail of a prune: one line before each delete call (the intent)
 * and one after it (the outcome), so that a call containerd carries out after
 * the exporter gave up on it, or a process that stops in the middle, still
 * leaves its trace in the log.
 */
export class AuditLog {
  /** The call in flight, if any: what a stop in the middle must still account for. */
  pending: AuditTarget | undefined;
  /** Outcome lines that said "deleted", by action: what a failed run still counts. */
  readonly deleted: Record<AuditAction, number> = { "lease-delete": 0, "ingest-abort": 0 };

  constructor(
    private readonly log: FastifyBaseLogger,
    private readonly client: string,
  ) {}

  intent(target: AuditTarget): void {
    this.pending = target;
    this.log.info({ ...this.fields(target), phase: "intent" }, `prune ${what(target.action)}: about to call containerd`);
  }

  outcome(target: AuditTarget, outcome: AuditOutcome, note?: string): void {
    if (this.pending === target) this.pending = undefined;
    if (outcome === "deleted") this.deleted[target.action]++;
    const level = outcome === "deleted" || outcome === "gone" ? "info" : "warn";
    this.log[level](
      { ...this.fields(target), phase: "outcome", outcome, ...(note ? { note } : {}) },
      `prune ${what(target.action)}: ${outcome}`,
    );
  }

  private fields(target: AuditTarget) {
    const id = target.action === "lease-delete" ? { lease: target.id } : { ref: target.id };
    return { audit: target.action, namespace: target.namespace, ...id, bytes: target.bytes, client: this.client };
  }
}

const what = (action: AuditAction) => (action === "lease-delete" ? "lease delete" : "ingest abort");
