import type { PruneReport } from "../prune/pruner.js";
import { humanBytes } from "./format.js";

export function renderPruneReport(report: PruneReport): string {
  const out: string[] = [report.dryRun ? "Dry run: nothing was deleted." : "Prune finished."];
  const verb = report.dryRun ? "would delete" : "deleted";
  for (const l of report.leases.deleted) out.push(`  lease ${l.namespace}/${l.id} (${l.state}, ${l.owner}): ${verb}, holds ${humanBytes(l.bytes ?? 0)}`);
  for (const l of report.leases.skipped) {
    const owner = l.owner ? ` (${l.owner})` : "";
    out.push(`  lease ${l.namespace ? `${l.namespace}/` : ""}${l.id}${owner}: skipped (${l.reason})`);
  }
  const abort = report.dryRun ? "would abort" : "aborted";
  for (const i of report.ingests.aborted) out.push(`  ingest ${i.namespace}/${i.ref}: ${abort}, ${humanBytes(i.bytes)}`);
  for (const i of report.ingests.skipped) out.push(`  ingest ${i.namespace}/${i.ref}: skipped (${i.reason})`);
  if (report.skippedNamespaces.length > 0) out.push(`  namespaces not read completely, left alone: ${report.skippedNamespaces.join(", ")}`);
  if (report.gcForced) out.push("  forced a garbage collection for unreferenced data");
  out.push(`Predicted: ${humanBytes(report.bytes.predicted.total)}`);
  if (report.bytes.reclaimed) {
    const r = report.bytes.reclaimed;
    out.push(
      `Reclaimed (measured): ${humanBytes(r.total)} (content ${humanBytes(r.content)}, snapshots ${humanBytes(r.snapshot)}, ingests ${humanBytes(r.ingest)})`,
    );
  }
  if (report.bytes.drift && report.bytes.drift.total !== 0) {
    out.push(`Store drift meanwhile (others' pulls and writes): ${report.bytes.drift.total < 0 ? "-" : "+"}${humanBytes(Math.abs(report.bytes.drift.total))}`);
  }
  if (report.bytes.measurementError) out.push(`Reclaimed: not measured: ${report.bytes.measurementError}`);
  out.push(`Took ${report.timings.totalSeconds.toFixed(1)}s.`);
  return `${out.join("\n")}\n`;
}
