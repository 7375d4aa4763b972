/**
 * logfmt, the `key=value` lines Prometheus and its exporters write:
 * `ts=2026-12-01T09:00:00.000Z level=info msg="listening" address=:9977`.
 * Written here rather than pulled in: it is a few lines, and pino has none.
 */

/** A value as logfmt writes it: bare when it can be, quoted and escaped otherwise. */
export function logfmtValue(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text !== "" && /^[^\s"=\\\u0000-\u001f]+$/.test(text)) return text;
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t")}"`;
}

/** Keys as logfmt allows them: nested objects flattened with dots (`err.message`), no spaces or `=`. */
function pairs(prefix: string, value: unknown, out: string[]): void {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) pairs(prefix === "" ? key : `${prefix}.${key}`, inner, out);
    return;
  }
  out.push(`${prefix.replace(/[\s="]/g, "_")}=${logfmtValue(value)}`);
}

/** One record as a logfmt line: ts, level and msg first, then the rest in the order given. */
export function logfmtLine(record: Record<string, unknown>): string {
  const { ts, level, msg, ...rest } = record;
  const out: string[] = [];
  if (ts !== undefined) out.push(`ts=${logfmtValue(ts)}`);
  if (level !== undefined) out.push(`level=${logfmtValue(level)}`);
  if (msg !== undefined) out.push(`msg=${logfmtValue(msg)}`);
  for (const [key, value] of Object.entries(rest)) pairs(key, value, out);
  return out.join(" ");
}
