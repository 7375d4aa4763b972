import { DurationError, parseDuration } from "../config/duration.js";
import type { Policy } from "../inventory/states.js";

/** containerd's identifier rule (pkg/identifiers): namespaces and lease ids. */
export const IDENTIFIER_PATTERN = "^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$";
export const IDENTIFIER_MAX_LENGTH = 76;

export class PruneRequestError extends Error {}

/** Per-request overrides of the policy, written as durations ("90m"). */
export function policyWith(defaults: Policy, overrides: { leaseStaleAfter?: string; ingestIdleAfter?: string }): Policy {
  const read = (field: string, text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback;
    try {
      return parseDuration(text);
    } catch (error) {
      if (error instanceof DurationError) throw new PruneRequestError(`${field}: ${error.message}`);
      throw error;
    }
  };
  return {
    leaseStaleAfterMs: read("leaseStaleAfter", overrides.leaseStaleAfter, defaults.leaseStaleAfterMs),
    ingestIdleAfterMs: read("ingestIdleAfter", overrides.ingestIdleAfter, defaults.ingestIdleAfterMs),
  };
}

/** The fields of POST /admin/prune that could be read two ways. */
export interface PruneFields {
  dryRun?: boolean;
  namespaces?: string[];
  leases?: string[];
}

/**
 * Refuses requests a person could read as something other than what the
 * server would do. A dryRun given in both the query string and the body must
 * agree; an empty list of namespaces or leases would mean "all of them" to
 * the plan, which is the opposite of what an empty list says. Returns the
 * dryRun the request means.
 */
export function resolveDryRun(body: PruneFields, query: { dryRun?: "true" | "false" }): boolean {
  const fromQuery = query.dryRun === undefined ? undefined : query.dryRun === "true";
  if (fromQuery !== undefined && body.dryRun !== undefined && fromQuery !== body.dryRun) {
    throw new PruneRequestError(
      `dryRun: the query string says ${fromQuery} and the body says ${body.dryRun}; give it once, in the body`,
    );
  }
  for (const field of ["namespaces", "leases"] as const) {
    if (body[field]?.length === 0) {
      throw new PruneRequestError(
        `${field}: an empty list is ambiguous (it would mean every ${field === "namespaces" ? "namespace" : "stale lease"}); leave the field out instead`,
      );
    }
  }
  return body.dryRun ?? fromQuery ?? false;
}
