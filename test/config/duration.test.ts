import { describe, expect, it } from "vitest";
import { DurationError, formatDuration, parseDuration } from "../../src/config/duration.js";

describe("parseDuration", () => {
  it.each([
    ["0", 0],
    ["0s", 0],
    ["90s", 90_000],
    ["10m", 600_000],
    ["1h30m", 5_400_000],
    ["500ms", 500],
    ["1d", 86_400_000],
    ["2w", 1_209_600_000],
    ["1y", 31_536_000_000],
    ["1h0m1s", 3_601_000],
  ])("reads %s as %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "-5m", "5", "1.5h", "10M", "30m1h", "1h 30m", "abc", "5mm", "1s1s"])("rejects %j", (text) => {
    expect(() => parseDuration(text)).toThrow(DurationError);
  });

  it("names the offending text in its message", () => {
    expect(() => parseDuration("-5m")).toThrow(/"-5m"/);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [500, "500ms"],
    [90_000, "1m30s"],
    [5_400_000, "1h30m"],
    [86_400_000 + 1000, "1d1s"],
  ])("writes %d ms as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("round-trips through parseDuration", () => {
    for (const ms of [1, 999, 61_000, 3_600_000, 90_061_001]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
