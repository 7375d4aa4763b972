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
