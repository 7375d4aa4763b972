// Polling with a deadline. Everything the lab waits for (a socket answering, an ingest growing,
// a snapshot appearing) is observed from outside containerd, so polling is the only option.
import { setTimeout as sleep } from "node:timers/promises";

/** Thrown by a probe to stop waiting at once (e.g. the process being waited for has died). */
export class GiveUp extends Error {}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Extra detail for the timeout error, evaluated only when the wait fails. */
  describe?: () => string | Promise<string>;
}

/**
 * Calls `probe` until it returns something other than undefined/false and returns that.
 * Errors thrown by `probe` count as "not yet" (the last one is reported on timeout), except
 * GiveUp, which ends the wait immediately.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
      if (error instanceof GiveUp) break;
    }
    if (Date.now() > deadline) break;
    await sleep(options.intervalMs ?? 100);
  }
  const detail = options.describe ? await options.describe() : "";
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
  const failure = lastError instanceof GiveUp ? "gave up" : `timed out after ${options.timeoutMs} ms`;
  throw new Error(`${failure} waiting for ${what}${cause}${detail ? `\n${detail}` : ""}`);
}
