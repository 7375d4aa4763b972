import { describe, expect, it } from "vitest";
import { isIdle, leaseExpiry, leaseState } from "../../src/inventory/lease-state.js";
import { DEFAULT_POLICY, LABEL, type Policy } from "../../src/inventory/states.js";
import type { IngestStatus } from "../../src/containerd/types.js";
import type { LeaseEntry } from "../../src/inventory/types.js";
import { HOUR, ingest, lease, MINUTE, NOW, res } from "./builders.js";

const expiry = (value: string) => leaseExpiry({ [LABEL.expire]: value });
const utc = (...parts: [number, number, number, number?, number?, number?]) =>
  Date.UTC(parts[0], parts[1] - 1, parts[2], parts[3] ?? 0, parts[4] ?? 0, parts[5] ?? 0) / 1000;

const noIngests = new Map<string, IngestStatus>();
const stateOf = (l: LeaseEntry, ingests: IngestStatus[] = [], policy: Policy = DEFAULT_POLICY, now = NOW) =>
  leaseState(l, new Map(ingests.map((i) => [i.ref, i])), policy, now);

describe("leaseExpiry (Go's time.Parse(time.RFC3339))", () => {
  it("is null without a gc.expire label", () => {
    expect(leaseExpiry({})).toBeNull();
    expect(leaseExpiry({ other: "2025-01-01T00:00:00Z" })).toBeNull();
  });

  it("parses UTC, numeric offsets and fractions", () => {
    expect(expiry("2025-06-15T12:30:45Z")).toBe(utc(2025, 6, 15, 12, 30, 45));
    expect(expiry("2025-06-15T12:30:45+02:00")).toBe(utc(2025, 6, 15, 10, 30, 45));
    expect(expiry("2025-06-15T12:30:45-05:30")).toBe(utc(2025, 6, 15, 18, 0, 45));
    expect(expiry("2025-06-15T12:30:45.250Z")).toBeCloseTo(utc(2025, 6, 15, 12, 30, 45) + 0.25, 6);
    expect(expiry("2025-06-15T12:30:45.123456789Z")).toBeCloseTo(utc(2025, 6, 15, 12, 30, 45) + 0.123456789, 2);
    expect(expiry("2024-02-29T00:00:00Z")).toBe(utc(2024, 2, 29)); // leap year
    expect(expiry("2000-02-29T00:00:00Z")).toBe(utc(2000, 2, 29)); // divisible by 400
  });

  it("accepts what Go's parser tolerates: one-digit hour, comma fraction, offsets up to 24:60", () => {
    expect(expiry("2025-06-15T7:00:00Z")).toBe(utc(2025, 6, 15, 7));
    expect(expiry("2025-06-15T07:00:00,5Z")).toBeCloseTo(utc(2025, 6, 15, 7) + 0.5, 6);
    expect(expiry("2025-06-15T07:00:00+24:00")).toBe(utc(2025, 6, 14, 7));
  });

  it.each([
    "tomorrow",
    "",
    "2026-13-45T00:00:00Z", // month and day out of range
    "2026-13-45",
    "2025-02-30T00:00:00Z", // Date.parse rolls this over to March 2; Go rejects it
    "2025-02-29T00:00:00Z", // not a leap year
    "1900-02-29T00:00:00Z", // divisible by 100, not by 400
    "2025-04-31T00:00:00Z",
    "2025-00-10T00:00:00Z",
    "2025-01-00T00:00:00Z",
    "2025-01-01T24:00:00Z", // Date.parse takes 24:00 as next midnight; Go rejects it
    "2025-01-01T23:60:00Z",
    "2025-01-01T23:59:60Z", // no leap seconds in Go
    "2025-01-01T00:00:00+25:00",
    "2025-01-01T00:00:00", // no zone
    "2025-01-01 00:00:00Z", // space instead of T
    "2025-01-01t00:00:00z",
    "2025-01-01T00:00:00+0200",
    "2025-1-01T00:00:00Z",
    "2025-01-01T000:00:00Z",
    "+02025-01-01T00:00:00Z",
    " 2025-01-01T00:00:00Z",
    "2025-01-01T00:00:00.Z",
    "1750000000",
  ])("is null (containerd ignores it) for %j", (value) => {
    expect(expiry(value)).toBeNull();
  });
});

describe("isIdle", () => {
  const policy: Policy = { leaseStaleAfterMs: HOUR * 1000, ingestIdleAfterMs: 10 * MINUTE * 1000 };
  it("is idle exactly at idle-after and not 1 ms before", () => {
    expect(isIdle(ingest("a", { offset: 1, updatedAt: NOW - 600 }), policy, NOW)).toBe(true);
    expect(isIdle(ingest("a", { offset: 1, updatedAt: NOW - 599.999 }), policy, NOW)).toBe(false);
    expect(isIdle(ingest("a", { offset: 1, updatedAt: NOW }), policy, NOW)).toBe(false);
  });
  it("follows the policy", () => {
    const short: Policy = { ...policy, ingestIdleAfterMs: 5_000 };
    expect(isIdle(ingest("a", { offset: 1, updatedAt: NOW - 5 }), short, NOW)).toBe(true);
    expect(isIdle(ingest("a", { offset: 1, updatedAt: NOW - 4.999 }), short, NOW)).toBe(false);
  });
});

describe("leaseState", () => {
  const future = NOW + 24 * HOUR;

  it("leaked without gc.expire, whatever its age, unless its owner keeps it (owned)", () => {
    expect(stateOf(lease("l", { createdAt: NOW - 1000 * HOUR }))).toBe("leaked");
    expect(stateOf(lease("l", { createdAt: NOW }))).toBe("leaked");
    expect(leaseState(lease("l", { createdAt: NOW }), new Map(), DEFAULT_POLICY, NOW, true)).toBe("owned");
  });

  it.each(["tomorrow", "2026-13-45T00:00:00Z", "2020-02-30T00:00:00Z", "2020-01-01T24:00:00Z"])(
    "leaked with the unparseable expiry %j, even one that reads as a past date",
    (expire) => {
      expect(stateOf(lease("l", { createdAt: NOW - 100 * HOUR, expire }))).toBe("leaked");
    },
  );

  it("expired once the expiry is in the past, regardless of age or writing ingests", () => {
    const busy = ingest("busy", { offset: 1, updatedAt: NOW });
    expect(stateOf(lease("l", { createdAt: NOW - 10, expire: NOW - 1 }))).toBe("expired");
    expect(stateOf(lease("l", { createdAt: NOW - 10, expire: NOW - 0.001 }))).toBe("expired");
    expect(stateOf(lease("l", { createdAt: NOW - 10, expire: NOW - 1, resources: [res.ingest("busy")] }), [busy])).toBe(
      "expired",
    );
  });

  it("is not expired at the exact expiry instant (containerd: now.After(exp))", () => {
    expect(stateOf(lease("young", { createdAt: NOW - 10, expire: NOW }))).toBe("active");
    expect(stateOf(lease("old", { createdAt: NOW - 2 * HOUR, expire: NOW }))).toBe("stale");
  });

  it("stale exactly at stale-after, active 1 ms before", () => {
    expect(stateOf(lease("l", { createdAt: NOW - HOUR, expire: future }))).toBe("stale");
    expect(stateOf(lease("l", { createdAt: NOW - HOUR + 0.001, expire: future }))).toBe("active");
    expect(stateOf(lease("l", { createdAt: NOW - 10, expire: future }))).toBe("active");
  });

  it("an old lease writing an ingest within idle-after is active", () => {
    const old = { createdAt: NOW - 5 * HOUR, expire: future };
    const l = lease("l", { ...old, resources: [res.ingest("a"), res.ingest("b")] });
    const idle = ingest("a", { offset: 1, updatedAt: NOW - HOUR });
    expect(stateOf(l, [idle, ingest("b", { offset: 1, updatedAt: NOW - 599.999 })])).toBe("active");
    expect(stateOf(l, [idle, ingest("b", { offset: 1, updatedAt: NOW - 600 })])).toBe("stale");
    expect(stateOf(l, [idle])).toBe("stale"); // b gone (committed): nothing is writing
  });

  it("only ingests the lease itself holds count", () => {
    const l = lease("l", { createdAt: NOW - 5 * HOUR, expire: future, resources: [res.content("x")] });
    expect(stateOf(l, [ingest("someone-else", { offset: 1, updatedAt: NOW })])).toBe("stale");
    // a content resource with the ingest's name is not an ingest
    const byName = lease("l", { createdAt: NOW - 5 * HOUR, expire: future, resources: [{ type: "content", id: "x" }] });
    expect(stateOf(byName, [ingest("x", { offset: 1, updatedAt: NOW })])).toBe("stale");
  });

  it("follows the policy windows", () => {
    const policy: Policy = { leaseStaleAfterMs: 60_000, ingestIdleAfterMs: 10_000 };
    const l = lease("l", { createdAt: NOW - 60, expire: future, resources: [res.ingest("a")] });
    expect(stateOf(l, [], policy)).toBe("stale");
    expect(stateOf(l, [ingest("a", { offset: 1, updatedAt: NOW - 9.999 })], policy)).toBe("active");
    expect(stateOf(l, [ingest("a", { offset: 1, updatedAt: NOW - 10 })], policy)).toBe("stale");
    expect(leaseState(lease("l", { createdAt: NOW - 59.999, expire: future }), noIngests, policy, NOW)).toBe("active");
  });
});
