// Log excerpts for error messages: a daemon that failed to start usually says why in its last lines.
import { existsSync, readFileSync } from "node:fs";

/** The last `lines` lines of a log file. */
export function tail(file: string, lines: number): string {
  if (!existsSync(file)) return "(no log file)";
  return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}
