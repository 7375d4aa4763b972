import type { FastifyBaseLogger } from "fastify";
import { pino } from "pino";

/** JSON logs on stderr; the admin token can never reach them. */
export function createLogger(level: string): FastifyBaseLogger {
  return pino(
    {
      level,
      redact: { paths: ["req.headers.authorization", "req.headers.cookie", "token"], censor: "[redacted]" },
    },
    pino.destination(2),
  );
}
