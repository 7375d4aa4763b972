import { describe, expect, it } from "vitest";
import { classify, type ClassifiedInventory } from "../../../src/inventory/classify.js";
import { DEFAULT_POLICY } from "../../../src/inventory/states.js";
import { escapeHtml, html } from "../../../src/http/status/html.js";
import { renderStatusPage } from "../../../src/http/status/template.js";
import { type StatusContext, statusView } from "../../../src/http/status/view.js";
import { blob, HOUR, ingest, inventory, lease, MINUTE, namespace, NOW, res } from "../../inventory/builders.js";

const CONTEXT: StatusContext = {
  now: NOW,
  version: "1.2.3",
  revision: "abc",
  containerdAddress: "/run/containerd/containerd.sock",
  lastPrune: undefined,
  admin: { enabled: true, address: "127.0.0.1:9978" },
  schedule: { intervalMs: 3600_000, minReclaimableBytes: 1 << 30 },
  links: { metrics: "/metrics", inventory: "/api/v1/inventory", health: "/healthz", runbook: "https://example.invalid/runbook.md" },
};

const SOURCE = "containerd.io/distribution.source.registry.example";

function scenario(): ClassifiedInventory {
  const ns = namespace("moby", {
    leases: [
      lease("cut-pull", { createdAt: NOW - 3 * HOUR, expire: NOW + 20 * HOUR, resources: [res.content("manifest"), res.ingest("dl-1")] }),
      lease("running", { createdAt: NOW - MINUTE, expire: NOW + 20 * HOUR, resources: [res.content("fresh")] }),
      lease("forever", { createdAt: NOW - 10 * HOUR, resources: [res.content("kept")] }),
    ],
    content: [
      blob("manifest", 1000, { [SOURCE]: 'team/<img src=x onerror="alert(1)">' }),
      blob("fresh", 10),
      blob("kept", 300),
    ],
    ingests: [ingest("dl-1", { offset: 4096, total: 8192, updatedAt: NOW - HOUR })],
  });
  return classify(inventory([ns]), DEFAULT_POLICY, NOW);
}

describe("status page view", () => {
  it("lists as stuck the stale, expired and leaked leases, with their owner and what they were pulling", () => {
    const view = statusView(scenario(), CONTEXT);
    // "running" is active; "forever" never expires and no owner rule claims it: leaked.
    expect(view.stuckLeases.map((l) => [l.id, l.state, l.owner])).toEqual([
      ["cut-pull", "stale", "docker"],
      ["forever", "leaked", "unknown"],
    ]);
    expect(view.stuckLeases[0]).toMatchObject({ heldBytes: 1000 + 4096 }); // its blob and its download
    expect(view.stuckLeases[0]?.repositories).toEqual(['registry.example/team/<img src=x onerror="alert(1)">']);
    expect(view.ingests).toHaveLength(1);
  });

  it("leaves owned leases out: a Docker container's layer is not stuck", () => {
    const id = "a".repeat(64);
    const classified = scenario();
    const ns = classified.inventory.namespaces[0]!;
    ns.leases.push(lease(id, { createdAt: NOW - 10 * HOUR, resources: [res.snapshot("overlayfs", id)] }));
    const reclassified = classify(classified.inventory, DEFAULT_POLICY, NOW);
    expect(reclassified.namespaces[0]!.leases.find((l) => l.id === id)).toMatchObject({ state: "owned", owner: "docker-container" });
    const view = statusView(reclassified, CONTEXT);
    expect(view.stuckLeases.map((l) => l.id)).not.toContain(id);
    const page = renderStatusPage(view);
    expect(page).toContain("<th>Owner</th>");
    expect(page).toContain("<td>docker</td>");
  });

  it("escapes every value it shows", () => {
    const page = renderStatusPage(statusView(scenario(), CONTEXT));
    expect(page).not.toContain("<img");
    expect(page).toContain("registry.example/team/&#60;img src=x onerror=&#34;alert(1)&#34;&#62;");
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;");
    expect(html`<p>${"<b>"}${html`<i>kept</i>`}${undefined}${["<", ">"]}</p>`.text).toBe("<p>&#60;b&#62;<i>kept</i>&#60;&#62;</p>");
  });

  it("tells what is reclaimable, the admin listener, the schedule and the last prune", () => {
    const page = renderStatusPage(
      statusView(scenario(), {
        ...CONTEXT,
        lastPrune: { trigger: "schedule", result: "success", finishedAt: NOW - 120, reclaimedBytes: 3 << 20, leasesDeleted: 2, ingestsAborted: 1 },
      }),
    );
    expect(page).toMatch(/id="reclaimable-total">5\.0 KiB</); // 1000 B blob + 4 KiB partial download
    expect(page).toContain("<code>127.0.0.1:9978</code>");
    expect(page).toContain("every 1h when at least 1.0 GiB is reclaimable");
    expect(page).toMatch(/2m ago .* by schedule: <strong>success<\/strong>, reclaimed 3\.0 MiB \(2 leases deleted, 1 ingests aborted\)/);
  });

  it("says containerd did not answer, and why, instead of showing zeros", () => {
    const down = classify(
      { ...inventory([]), up: false, containerd: null, collectors: [{ collector: "namespaces", success: false, durationSeconds: 0, errors: ["permission denied on /x.sock"] }] },
      DEFAULT_POLICY,
      NOW,
    );
    const page = renderStatusPage(statusView(down, CONTEXT));
    expect(page).toContain("<h2>containerd did not answer</h2>");
    expect(page).toContain("permission denied on /x.sock");
    expect(page).toContain("#containerdunreachable");
    expect(page).not.toContain('id="totals"');
  });
});
