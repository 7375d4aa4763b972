import { humanAge, humanBytes } from "../../cli/format.js";
import { formatDuration } from "../../config/duration.js";
import { type Html, html } from "./html.js";
import type { IngestRow, StatusView, StuckLeaseRow } from "./view.js";

const RESOURCE_NAMES = { content: "Content (blobs)", snapshot: "Snapshots (unpacked layers)", ingest: "Ingests (partial downloads)" };

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 72rem; padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; } h2 { font-size: 1.1rem; margin-top: 1.8rem; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f4f4f6; font-weight: 600; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: .92em; word-break: break-all; }
.panel { border: 1px solid #ccc; border-radius: 6px; padding: .8rem 1rem; margin: 1rem 0; }
.down { border-color: #c62828; background: #fdecea; } .warn { border-color: #b26a00; background: #fff4e5; }
.up { color: #1b5e20; font-weight: 600; } .bad { color: #c62828; font-weight: 600; }
.muted { color: #666; } nav a { margin-right: 1rem; }
`;

const ago = (now: number, at: number) => `${humanAge(now - at)} ago`;

function expiry(now: number, expiresAt: number | null): string {
  if (expiresAt === null) return "never";
  return expiresAt < now ? `${humanAge(now - expiresAt)} ago` : `in ${humanAge(expiresAt - now)}`;
}

function header(view: StatusView): Html {
  const c = view.containerd;
  const state = c.up ? html`<span class="up">up</span>` : html`<span class="bad">down</span>`;
  const version = c.version ? html`, containerd ${c.version} <span class="muted">(${c.revision})</span>` : "";
  return html`<h1>containerd-orphan-exporter</h1>
<p class="muted">Version ${view.exporter.version} (revision ${view.exporter.revision}). Disk space containerd holds for nobody: stuck leases, partial downloads, orphaned snapshots.</p>
<p id="containerd">containerd at <code>${c.address}</code>: ${state}${version}.</p>`;
}

function downPanel(view: StatusView): Html {
  return html`<section class="panel down" id="containerd-down">
<h2>containerd did not answer</h2>
<p>${view.containerd.reason ?? "No answer within the scrape budget."}</p>
<p>Nothing below is known while containerd does not answer: the byte metrics are absent from <a href="${view.links.metrics}">${view.links.metrics}</a> and no prune runs.
Check that containerd runs and that <code>--containerd.address</code> names its socket: <a href="${view.links.runbook}#containerdunreachable">runbook: ContainerdUnreachable</a>.</p>
</section>`;
}

function incompletePanel(view: StatusView): Html | string {
  const { namespaces, collectors } = view.incomplete;
  if (namespaces.length === 0 && collectors.length === 0) return "";
  return html`<section class="panel warn" id="incomplete">
<p><strong>Not read completely</strong> within this read's budget${namespaces.length ? html`: namespaces ${namespaces.join(", ")} are left out of the figures below and out of any prune` : ""}.</p>
<ul>${collectors.map((c) => html`<li><code>${c.name}</code>: ${c.errors.join("; ") || "failed"}</li>`)}</ul>
</section>`;
}

function totalsTable(view: StatusView): Html {
  const sum = (pick: (t: StatusView["totals"][number]) => number) => view.totals.reduce((s, t) => s + pick(t), 0);
  return html`<h2>Disk</h2>
<table id="totals"><thead><tr><th>Resource</th><th class="num">On disk</th><th class="num">Reclaimable</th></tr></thead><tbody>
${view.totals.map((t) => html`<tr><td>${RESOURCE_NAMES[t.resource]}</td><td class="num">${humanBytes(t.store)}</td><td class="num">${humanBytes(t.reclaimable)}</td></tr>`)}
<tr><th>Total</th><th class="num">${humanBytes(sum((t) => t.store))}</th><th class="num" id="reclaimable-total">${humanBytes(sum((t) => t.reclaimable))}</th></tr>
</tbody></table>
<p class="muted">Reclaimable is what a prune under the current policy frees (leases stale after ${formatDuration(view.policy.leaseStaleAfterMs)}, downloads idle after ${formatDuration(view.policy.ingestIdleAfterMs)}): <code>containerd_reclaimable_bytes</code>.</p>`;
}

function more(shown: number, total: number): Html | string {
  return total > shown ? html`<p class="muted">${total - shown} more not shown: see <code>df</code> or the inventory API.</p>` : "";
}

function leaseRow(view: StatusView, l: StuckLeaseRow): Html {
  return html`<tr><td>${l.namespace}</td><td><code>${l.id}</code></td><td>${l.owner}</td><td>${l.state}</td><td>${ago(view.now, l.createdAt)}</td><td>${expiry(view.now, l.expiresAt)}</td><td class="num">${humanBytes(l.heldBytes)}</td><td>${l.repositories.length ? l.repositories.map((r, i) => html`${i ? ", " : ""}<code>${r}</code>`) : html`<span class="muted">unknown</span>`}</td></tr>`;
}

function leasesTable(view: StatusView): Html {
  if (view.stuckLeasesTotal === 0) return html`<h2>Stuck leases</h2><p id="stuck-leases">None: every lease belongs to something still running or still owned.</p>`;
  return html`<h2>Stuck leases (${view.stuckLeasesTotal})</h2>
<table id="stuck-leases"><thead><tr><th>Namespace</th><th>Lease</th><th>Owner</th><th>State</th><th>Age</th><th>Expires</th><th class="num">Held</th><th>Was pulling</th></tr></thead><tbody>
${view.stuckLeases.map((l) => leaseRow(view, l))}
</tbody></table>${more(view.stuckLeases.length, view.stuckLeasesTotal)}`;
}

function ingestRow(view: StatusView, i: IngestRow): Html {
  const total = i.total > 0 ? html` of ${humanBytes(i.total)}` : "";
  return html`<tr><td>${i.namespace}</td><td><code>${i.ref}</code></td><td class="num">${humanBytes(i.offset)}${total}</td><td>${ago(view.now, i.updatedAt)}</td><td>${i.state}</td><td>${i.leases.map((id, n) => html`${n ? ", " : ""}<code>${id}</code>`)}</td></tr>`;
}

function ingestsTable(view: StatusView): Html {
  if (view.ingestsTotal === 0) return html`<h2>Ingests waiting</h2><p id="ingests">None.</p>`;
  return html`<h2>Ingests waiting (${view.ingestsTotal})</h2>
<table id="ingests"><thead><tr><th>Namespace</th><th>Ref</th><th class="num">Written</th><th>Last write</th><th>State</th><th>Held by</th></tr></thead><tbody>
${view.ingests.map((i) => ingestRow(view, i))}
</tbody></table>${more(view.ingests.length, view.ingestsTotal)}`;
}

function prunePanel(view: StatusView): Html {
  const p = view.lastPrune;
  const last = p
    ? html`${ago(view.now, p.finishedAt)} (${new Date(p.finishedAt * 1000).toISOString()}), by ${p.trigger}: <strong>${p.result.replace("_", " ")}</strong>${
        p.result === "success" ? html`, reclaimed ${humanBytes(p.reclaimedBytes)} (${p.leasesDeleted} leases deleted, ${p.ingestsAborted} ingests aborted)` : ""
      }${p.error ? html`: ${p.error}` : ""}`
    : html`none since the exporter started`;
  const admin = view.admin.enabled
    ? html`on (<code>POST /admin/prune</code> on ${view.admin.address === "" ? "this listener" : html`<code>${view.admin.address}</code>`})`
    : html`off (no admin token configured)`;
  const schedule = view.schedule
    ? html`every ${formatDuration(view.schedule.intervalMs)} when at least ${humanBytes(view.schedule.minReclaimableBytes)} is reclaimable`
    : html`off (<code>--prune.interval</code>)`;
  return html`<h2>Pruning</h2>
<table id="prune"><tbody>
<tr><th>Last prune</th><td>${last}</td></tr>
<tr><th>Admin routes</th><td>${admin}</td></tr>
<tr><th>Scheduled prune</th><td>${schedule}</td></tr>
</tbody></table>`;
}

/** The page at /: server-rendered, no script, every value escaped by html``. */
export function renderStatusPage(view: StatusView): string {
  const body = view.containerd.up
    ? [incompletePanel(view), totalsTable(view), leasesTable(view), ingestsTable(view)]
    : [downPanel(view)];
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>containerd-orphan-exporter</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body>
${header(view)}
<nav><a href="${view.links.metrics}">Metrics</a><a href="${view.links.inventory}">Inventory API (JSON)</a><a href="${view.links.health}">Health</a><a href="${view.links.runbook}">Runbook</a></nav>
${body}
${prunePanel(view)}
<p class="muted">Read ${new Date(view.now * 1000).toISOString()}.</p>
</body>
</html>
`.text;
}
