/**
 * Reads dashboards/containerd-orphans.json and hands out its PromQL, ready to run
 * against a real Prometheus:
 *
 *   const queries = extractQueries(loadDashboard(), { job: "containerd-orphan-exporter", instance: "127.0.0.1:9977" });
 *   for (const q of queries) {
 *     // GET /api/v1/query?query=<q.expr>; a result may be empty only when q.emptyWhen is set
 *   }
 *
 * Queries whose result is empty by design in some states carry `emptyWhen` (from
 * EMPTY_BY_DESIGN below; the panel's description says "Empty by design" too, and
 * test/dashboards/dashboard.test.ts keeps the two in step).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const DASHBOARD_PATH = join(dirname(fileURLToPath(import.meta.url)), "../../dashboards/containerd-orphans.json");

/** The phrase a panel description carries when (some of) its queries return nothing by design. */
export const EMPTY_MARKER = "Empty by design";

/** Queries that return no series in some legitimate states, and when. */
export const EMPTY_BY_DESIGN: ReadonlyArray<{ panel: string; refId: string; when: string }> = [
  {
    panel: "Oldest stale lease age",
    refId: "A",
    when: "no stale lease exists (containerd_lease_oldest_created_timestamp_seconds{state=\"stale\"} is absent)",
  },
  {
    panel: "Last successful prune",
    refId: "A",
    when: "no prune has succeeded since the exporter started (containerd_prune_last_success_timestamp_seconds is absent)",
  },
  {
    panel: "Oldest lease age by state",
    refId: "A",
    when: "no lease exists; otherwise a series only for the states that have a lease",
  },
  {
    panel: "Stuck leases by held bytes",
    refId: "A",
    when: "no stale, expired or leaked lease exists, or --metrics.lease-detail-limit=0 (containerd_lease_held_bytes is absent)",
  },
  {
    panel: "Idle time of the oldest partial download",
    refId: "A",
    when: "no partial download (ingest) exists (containerd_ingest_oldest_updated_timestamp_seconds is absent)",
  },
];

// ---------------------------------------------------------------------------------
// The dashboard JSON, as far as these helpers and the tests read it.

export interface Datasource {
  type?: string;
  uid?: string;
}

export interface Target {
  refId: string;
  expr: string;
  datasource?: Datasource;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  format?: string;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: Datasource;
  gridPos: { h: number; w: number; x: number; y: number };
  fieldConfig?: { defaults?: { unit?: string; [key: string]: unknown }; overrides?: unknown[] };
  targets?: Target[];
  panels?: Panel[];
  collapsed?: boolean;
  [key: string]: unknown;
}

export interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string; [key: string]: unknown };
  definition?: string;
  datasource?: Datasource;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  [key: string]: unknown;
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
  [key: string]: unknown;
}

export function loadDashboard(path: string = DASHBOARD_PATH): Dashboard {
  return JSON.parse(readFileSync(path, "utf8")) as Dashboard;
}

// ---------------------------------------------------------------------------------
// Variables

export interface VariableValues {
  /** Regex for $job, e.g. "containerd-orphan-exporter" or regexFor([...]). */
  job: string;
  /** Regex for $instance, e.g. "127.0.0.1:9977"; ".*" is what "All" sends. */
  instance: string;
  /** Regex for $namespace; ".*" (the default) is what "All" sends. */
  namespace?: string;
  /** What Grafana would send for $__rate_interval; default "1m" (4 x a 15s scrape interval). */
  rateInterval?: string;
  /** $__interval; default "15s". */
  interval?: string;
  /** $__range; default "1h". */
  range?: string;
}

const REGEX_SPECIAL = /[\\^$*+?.()|[\]{}]/g;

/** A multi-value selection the way Grafana formats it for a Prometheus regex matcher. */
export function regexFor(values: readonly string[]): string {
  const escaped = values.map((v) => v.replace(REGEX_SPECIAL, "\\$&"));
  return escaped.length === 1 ? escaped[0]! : `(${escaped.join("|")})`;
}

/**
 * Replaces Grafana variables ($name, ${name}, ${name:format}, [[name]]) in a query.
 * Values are inserted as given; label values inside a PromQL string literal need
 * their backslashes doubled, which this does. Throws on a variable it does not know.
 */
export function substitute(expr: string, values: VariableValues): string {
  const known: Record<string, string> = {
    job: values.job,
    instance: values.instance,
    namespace: values.namespace ?? ".*",
    __rate_interval: values.rateInterval ?? "1m",
    __interval: values.interval ?? "15s",
    __range: values.range ?? "1h",
  };
  const pattern = /\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g;
  // Inside a "…" string literal a regex backslash must be written twice.
  let out = "";
  let inString = false;
  let last = 0;
  const replaceIn = (chunk: string, quoted: boolean) =>
    chunk.replace(pattern, (whole, a: string | undefined, b: string | undefined, c: string | undefined) => {
      const name = (a ?? b ?? c) as string;
      const value = known[name];
      if (value === undefined) throw new Error(`unknown variable ${whole} in ${expr}`);
      return quoted ? value.replace(/\\/g, "\\\\") : value;
    });
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i];
    if (ch === "\\" && inString) {
      i++;
      continue;
    }
    if (ch === '"') {
      out += replaceIn(expr.slice(last, i + 1), inString);
      last = i + 1;
      inString = !inString;
    }
  }
  return out + replaceIn(expr.slice(last), inString);
}

// ---------------------------------------------------------------------------------
// Queries

export interface DashboardQuery {
  /** Title of the row the panel sits in. */
  row: string;
  panel: string;
  panelId: number;
  panelType: string;
  refId: string;
  /** The query with variables substituted. */
  expr: string;
  /** The query as written in the dashboard. */
  rawExpr: string;
  /** true for instant queries (tables); range queries otherwise. */
  instant: boolean;
  unit: string | undefined;
  /** Set when the query may legitimately return nothing; says when. */
  emptyWhen?: string;
}

/** Data panels in dashboard order, with the row each one sits in (collapsed rows included). */
export function panelsWithRows(dashboard: Dashboard): Array<{ row: string; panel: Panel }> {
  const out: Array<{ row: string; panel: Panel }> = [];
  let row = "";
  for (const panel of dashboard.panels) {
    if (panel.type === "row") {
      row = panel.title;
      for (const inner of panel.panels ?? []) out.push({ row, panel: inner });
    } else {
      out.push({ row, panel });
    }
  }
  return out;
}

/** Every PromQL expression of every panel, variables substituted with `values`. */
export function extractQueries(dashboard: Dashboard, values: VariableValues): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  for (const { row, panel } of panelsWithRows(dashboard)) {
    for (const target of panel.targets ?? []) {
      const empty = EMPTY_BY_DESIGN.find((e) => e.panel === panel.title && e.refId === target.refId);
      queries.push({
        row,
        panel: panel.title,
        panelId: panel.id,
        panelType: panel.type,
        refId: target.refId,
        expr: substitute(target.expr, values),
        rawExpr: target.expr,
        instant: target.instant === true,
        unit: panel.fieldConfig?.defaults?.unit,
        ...(empty ? { emptyWhen: empty.when } : {}),
      });
    }
  }
  return queries;
}

export interface VariableQuery {
  name: string;
  /** The label_values() call as written. */
  query: string;
  /** Its series selector with variables substituted: run it through /api/v1/series. */
  selector: string;
  label: string;
}

/** The label_values(selector, label) queries of the query variables, substituted. */
export function extractVariableQueries(dashboard: Dashboard, values: VariableValues): VariableQuery[] {
  return dashboard.templating.list
    .filter((v) => v.type === "query")
    .map((v) => {
      const query = typeof v.query === "string" ? v.query : (v.query?.query ?? v.definition ?? "");
      const m = /^label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)$/.exec(query);
      if (!m) throw new Error(`variable ${v.name}: not a label_values(selector, label) query: ${query}`);
      return { name: v.name, query, selector: substitute(m[1]!, values), label: m[2]! };
    });
}

// ---------------------------------------------------------------------------------
// A small PromQL reader, enough to list the series selectors of an expression.

export interface Selector {
  metric: string;
  /** The text between { and }, "" when there is none. */
  matchers: string;
}

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "bool",
  "and",
  "or",
  "unless",
  "atan2",
  "inf",
  "nan",
  // aggregation operators, which may be followed by `by (…)` before their parenthesis
  "sum",
  "min",
  "max",
  "avg",
  "group",
  "stddev",
  "stdvar",
  "count",
  "count_values",
  "bottomk",
  "topk",
  "quantile",
]);
const GROUPING = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);

/** The vector selectors of an expression: metric names with their matchers. */
export function selectors(expr: string): Selector[] {
  const out: Selector[] = [];
  let i = 0;
  let pendingGrouping = false;
  while (i < expr.length) {
    const ch = expr[i]!;
    if (ch === '"' || ch === "'" || ch === "`") {
      const end = skipString(expr, i);
      i = end;
      continue;
    }
    if (ch === "[") {
      i = expr.indexOf("]", i) + 1;
      continue;
    }
    if (ch === "#") {
      const nl = expr.indexOf("\n", i);
      i = nl === -1 ? expr.length : nl;
      continue;
    }
    if (ch === "{") {
      // A selector without a metric name ({__name__=~…}): record it nameless.
      const end = closeBrace(expr, i);
      out.push({ metric: "", matchers: expr.slice(i + 1, end).trim() });
      i = end + 1;
      continue;
    }
    if (ch === "(" && pendingGrouping) {
      i = expr.indexOf(")", i) + 1;
      pendingGrouping = false;
      continue;
    }
    const ident = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(expr.slice(i));
    if (ident) {
      const word = ident[0];
      let j = i + word.length;
      while (j < expr.length && /\s/.test(expr[j]!)) j++;
      const next = expr[j];
      if (GROUPING.has(word)) {
        pendingGrouping = true;
        i = j;
        continue;
      }
      if (next === "(" || KEYWORDS.has(word.toLowerCase())) {
        i = j;
        continue;
      }
      if (next === "{") {
        const end = closeBrace(expr, j);
        out.push({ metric: word, matchers: expr.slice(j + 1, end).trim() });
        i = end + 1;
      } else {
        out.push({ metric: word, matchers: "" });
        i = j;
      }
      continue;
    }
    if (/[0-9.]/.test(ch)) {
      const num = /^[0-9.]+(e[+-]?\d+)?[a-z]*/i.exec(expr.slice(i));
      i += num ? num[0].length : 1;
      continue;
    }
    i++;
  }
  return out;
}

/** The labels named in by (...), without (...), on (...), ignoring (...), group_left/right (...). */
export function groupingLabels(expr: string): string[] {
  const out: string[] = [];
  const re = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;
  for (const m of expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').matchAll(re)) {
    out.push(
      ...m[1]!
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    );
  }
  return out;
}

/** Label names used in a selector's matchers. */
export function matcherLabels(matchers: string): string[] {
  return [...matchers.replace(/"(?:[^"\\]|\\.)*"/g, '""').matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map(
    (m) => m[1]!,
  );
}

function skipString(expr: string, start: number): number {
  const quote = expr[start];
  let i = start + 1;
  while (i < expr.length && expr[i] !== quote) i += expr[i] === "\\" && quote !== "`" ? 2 : 1;
  return i + 1;
}

function closeBrace(expr: string, open: number): number {
  let i = open + 1;
  while (i < expr.length && expr[i] !== "}") {
    i = expr[i] === '"' || expr[i] === "'" || expr[i] === "`" ? skipString(expr, i) : i + 1;
  }
  return i;
}
