import { describe, expect, it } from "vitest";
import { renderDf } from "../../src/cli/df.js";
import { classify } from "../../src/inventory/classify.js";
import { dfReport } from "../../src/inventory/report.js";
import { DEFAULT_POLICY, LABEL } from "../../src/inventory/states.js";
import { blob, HOUR, inventory, lease, namespace, NOW, res, snapshot } from "./builders.js";

const CONTAINER = "ef".repeat(32);

function report() {
  const moby = namespace("moby", {
    content: [blob("cut", 4000), blob("saved", 32), blob("cache", 300)],
    snapshots: [snapshot("overlayfs", CONTAINER, { kind: "active", usage: 5000 })],
    leases: [
      lease(CONTAINER, { createdAt: NOW - 30 * HOUR, resources: [res.snapshot("overlayfs", CONTAINER)] }),
      lease("cut", { createdAt: NOW - 2 * HOUR, expire: NOW + 6 * HOUR, labels: { "moby/prune.images": "true" }, resources: [res.content("cut")] }),
      lease("save", { createdAt: NOW - 30 * HOUR, resources: [res.content("saved")] }),
      lease("cache", { createdAt: NOW - 30 * HOUR, labels: { [LABEL.flat]: "1" }, resources: [res.content("cache")] }),
    ],
  });
  return dfReport(classify(inventory([moby, namespace("empty")]), DEFAULT_POLICY, NOW));
}

describe("df and the inventory API", () => {
  it("list stale, expired and leaked leases as stuck, with owner and refusal; never owned ones", () => {
    const r = report();
    expect(r.stuckLeases.map((l) => [l.id, l.state, l.owner, l.refusal, l.heldBytes])).toEqual([
      ["cut", "stale", "docker-pull", null, 4000],
      ["save", "leaked", "unknown", null, 32],
    ]);
  });

  it("count leases per state and owner, every state of each owner present, unknown in a namespace without leases", () => {
    const rows = report().rows.filter((row) => row.resource === "lease");
    const count = (ns: string, state: string, owner: string) =>
      rows.find((row) => row.namespace === ns && row.state === state && row.owner === owner)?.count;
    expect(count("moby", "owned", "docker-container")).toBe(1);
    expect(count("moby", "owned", "buildkit")).toBe(1);
    expect(count("moby", "leaked", "unknown")).toBe(1);
    expect(count("moby", "stale", "docker-pull")).toBe(1);
    expect(count("moby", "active", "docker-pull")).toBe(0);
    expect(rows.filter((row) => row.namespace === "empty").map((row) => [row.state, row.owner])).toEqual([
      ["active", "unknown"],
      ["stale", "unknown"],
      ["expired", "unknown"],
      ["leaked", "unknown"],
      ["owned", "unknown"],
    ]);
  });

  it("df shows an OWNER column in both tables", () => {
    const text = renderDf(report());
    expect(text).toMatch(/^NAMESPACE\s+RESOURCE\s+STATE\s+OWNER\s+COUNT/m);
    expect(text).toMatch(/^NAMESPACE\s+LEASE\s+STATE\s+OWNER\s+AGE/m);
    expect(text).toMatch(/^moby\s+cut\s+stale\s+docker-pull\s/m);
    expect(text).not.toMatch(new RegExp(`^moby\\s+${CONTAINER}`, "m"));
  });
});
