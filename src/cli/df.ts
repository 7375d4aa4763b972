import type { DfReport } from "../inventory/report.js";
import { humanAge, humanBytes, ownerHints, table } from "./format.js";
import { downReason } from "./inventory.js";

/** `docker system df`-like text: what each namespace holds per state, then the stuck leases. */
export function renderDf(report: DfReport): string {
  if (!report.up) return `containerd did not answer: ${downReason(report)}\n`;
  const rows = report.rows
    .filter((r) => r.count > 0)
    .map((r) => [r.namespace, r.resource, r.state, r.owner ?? "", String(r.count), humanBytes(r.bytes), humanBytes(r.reclaimableBytes)]);
  const out = [table(["NAMESPACE", "RESOURCE", "STATE", "OWNER", "COUNT", "SIZE", "RECLAIMABLE"], rows), ""];
  const r = report.reclaimable;
  out.push(
    `Node store: content ${humanBytes(report.store.content)}, snapshots ${humanBytes(report.store.snapshot)}, ` +
      `ingests ${humanBytes(report.store.ingest)}; reclaimable ${humanBytes(r.content + r.snapshot + r.ingest)} ` +
      `(content ${humanBytes(r.content)}, snapshots ${humanBytes(r.snapshot)}, ingests ${humanBytes(r.ingest)})`,
  );
  if (report.incompleteNamespaces.length > 0) {
    out.push(`Not classified (a read failed): ${report.incompleteNamespaces.join(", ")}`);
  }
  if (report.stuckLeases.length > 0) {
    out.push("", "Stuck leases:");
    const now = report.readAt;
    const leaseRows = report.stuckLeases.map((l) => [
      l.namespace,
      l.id,
      l.state,
      l.owner,
      humanAge(now - l.createdAt),
      l.expiresAt === null ? "never" : l.expiresAt < now ? `${humanAge(now - l.expiresAt)} ago` : `in ${humanAge(l.expiresAt - now)}`,
      humanBytes(l.heldBytes),
      ownerHints(l.labels),
    ]);
    out.push(table(["NAMESPACE", "LEASE", "STATE", "OWNER", "AGE", "EXPIRES", "HELD", "LABELS"], leaseRows));
  }
  return `${out.join("\n")}\n`;
}
