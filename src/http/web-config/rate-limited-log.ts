import type { FastifyBaseLogger } from "fastify";

/**
 * Warnings about refused clients, at most `perWindow` lines per window; the
 * rest are counted and the count is logged with the next line that gets
 * through, so an attacker cannot fill the disk through the log.
 */
export class RateLimitedLog {
  private windowStart = 0;
  private written = 0;
  private suppressed = 0;

  constructor(
    private readonly log: FastifyBaseLogger,
    private readonly perWindow = 20,
    private readonly windowMs = 10_000,
  ) {}

  warn(fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.written = 0;
    }
    if (this.written >= this.perWindow) {
      this.suppressed++;
      return;
    }
    this.written++;
    const extra = this.suppressed > 0 ? { suppressed: this.suppressed } : {};
    this.suppressed = 0;
    this.log.warn({ ...fields, ...extra }, message);
  }
}
