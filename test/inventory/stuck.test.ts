import { describe, expect, it } from "vitest";
import { classify } from "../../src/inventory/classify.js";
import { DEFAULT_POLICY } from "../../src/inventory/states.js";
import { stuckLeases, stuckLeasesOf } from "../../src/inventory/stuck.js";
import { blob, HOUR, inventory, lease, namespace, NOW, res } from "./builders.js";

/** Two namespaces of stale, expired, leaked, active and owned leases; `b` also has a namespace that failed to read. */
function classified() {
  const stale = (id: string, created: number, tag: string) =>
    lease(id, { createdAt: NOW - created * HOUR, expire: NOW + HOUR, resources: [res.content(tag)] });
  const a = namespace("a", {
    content: [blob("a-big", 900), blob("a-small", 10), blob("a-tie", 10), blob("a-active", 5000)],
    leases: [
      stale("small", 5, "a-small"),
      stale("big", 5, "a-big"),
      stale("tie-younger", 3, "a-tie"),
      lease("leaked", { createdAt: NOW - 30 * HOUR, resources: [] }),
      lease("active", { createdAt: NOW - 60, expire: NOW + HOUR, resources: [res.content("a-active")] }),
    ],
  });
  const b = namespace("b", {
    content: [blob("b-mid", 500)],
    leases: [lease("expired", { createdAt: NOW - 9 * HOUR, expire: NOW - HOUR, resources: [res.content("b-mid")] })],
  });
  const broken = namespace("broken", {
    content: [blob("x", 10_000)],
    leases: [stale("unread", 5, "x")],
    failed: ["content"],
  });
  return classify(inventory([a, b, broken]), DEFAULT_POLICY, NOW);
}

describe("stuck leases", () => {
  it("are a namespace's stale, expired and leaked leases, largest holders first, then the oldest", () => {
    const a = classified().namespaces.find((ns) => ns.name === "a");
    expect(a && stuckLeasesOf(a).map((l) => [l.id, l.heldBytes])).toEqual([
      ["big", 900],
      ["small", 10],
      ["tie-younger", 10],
      ["leaked", 0],
    ]);
  });

  it("merge every namespace read in full in that order, and leave out one that failed", () => {
    expect(stuckLeases(classified()).map(({ namespace, lease }) => `${namespace.name}/${lease.id}`)).toEqual([
      "a/big",
      "b/expired",
      "a/small",
      "a/tie-younger",
      "a/leaked",
    ]);
  });
});
