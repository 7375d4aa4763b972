import type { FastifyBaseLogger } from "fastify";
import { pino } from "pino";
import type { LogFormat, LogLevel } from "../config/config.js";
import { isExpectedError } from "../containerd/errors.js";
import { logfmtLine, logfmtValue } from "./logfmt.js";

const LEVEL_VALUES: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** An error as one log field: its message, and its stack only when it is a bug rather than a known failure. */
function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (isExpectedError(error)) return error.message;
  return { type: error.name, message: error.message, stack: error.stack };
}

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /**
   * One-shot commands print their own results and reasons: their log shows only
   * the audit lines, plus (when --log.level is given) plain-text messages, never
   * a JSON or logfmt line for a person to decode.
   */
  command?: { verbose: boolean };
}

/** What a record becomes on stderr, or undefined when it is filtered out. */
function lineFormatter(options: LoggerOptions): (record: Record<string, unknown>) => string | undefined {
  const threshold = LEVEL_VALUES[options.level] as number;
  const structured = (record: Record<string, unknown>) => (options.format === "json" ? JSON.stringify(record) : logfmtLine(record));
  return (record) => {
    // Audit lines (every deletion) are written whatever --log.level says.
    if (record.audit !== undefined) return structured(record);
    const level = LEVEL_VALUES[String(record.level)] ?? 0;
    if (level < threshold) return undefined;
    if (!options.command) return structured(record);
    if (!options.command.verbose) return undefined;
    const { ts: _ts, level: name, msg, ...rest } = record;
    const fields = Object.entries(rest).map(([k, v]) => `${k}=${logfmtValue(v)}`);
    const prefix = level >= LEVEL_VALUES.warn! ? `${String(name)}: ` : "";
    return `containerd-orphan-exporter: ${prefix}${String(msg ?? "")}${fields.length ? ` (${fields.join(" ")})` : ""}`;
  };
}

/**
 * The exporter's log on stderr: logfmt (Prometheus' habit) or JSON, `ts` in
 * ISO 8601 and level names. The admin token and cookies can never reach it.
 */
export function createLogger(options: LoggerOptions): FastifyBaseLogger {
  const format = lineFormatter(options);
  const stderr = pino.destination({ dest: 2, sync: true });
  const destination = {
    write(line: string) {
      const out = format(JSON.parse(line) as Record<string, unknown>);
      if (out !== undefined) stderr.write(`${out}\n`);
    },
  };
  // Info is always produced, so that audit lines exist under --log.level=warn; the filter above drops the rest.
  const produced = LEVEL_VALUES[options.level]! < LEVEL_VALUES.info! ? options.level : "info";
  return pino(
    {
      level: produced,
      base: undefined,
      messageKey: "msg",
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeError },
      redact: { paths: ["req.headers.authorization", "req.headers.cookie", "token"], censor: "[redacted]" },
    },
    destination,
  );
}
