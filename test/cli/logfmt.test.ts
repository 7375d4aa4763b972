import { describe, expect, it } from "vitest";
import { logfmtLine, logfmtValue } from "../../src/cli/logfmt.js";
import { parseLogfmt } from "../support/cli.js";

describe("logfmt", () => {
  it("writes ts, level and msg first, bare values bare and the rest quoted and escaped", () => {
    const line = logfmtLine({ level: "warn", ts: "2026-12-01T10:00:00.000Z", msg: 'a "quoted" msg', n: 3, ok: true, empty: "", path: "/run/x.sock" });
    expect(line).toBe('ts=2026-12-01T10:00:00.000Z level=warn msg="a \\"quoted\\" msg" n=3 ok=true empty="" path=/run/x.sock');
    expect(parseLogfmt(line)).toMatchObject({ msg: 'a "quoted" msg', path: "/run/x.sock" });
  });

  it("flattens nested objects and keeps a stack on one line", () => {
    const line = logfmtLine({ msg: "x", err: { type: "Error", message: "boom", stack: "Error: boom\n    at f (a.js:1)" } });
    expect(line).toBe('msg=x err.type=Error err.message=boom err.stack="Error: boom\\n    at f (a.js:1)"');
    expect(line).not.toContain("\n");
    expect(logfmtValue("a=b")).toBe('"a=b"');
    expect(logfmtValue(["x", 1])).toBe('"[\\"x\\",1]"');
  });
});
