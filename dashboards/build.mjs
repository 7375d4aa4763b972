#!/usr/bin/env node
// Renders dashboards/containerd-orphans.json (Grafana classic dashboard JSON).
//
//   node dashboards/build.mjs           rewrite the dashboard
//   node dashboards/build.mjs --stdout  print what would be written
//   node dashboards/build.mjs --check   exit 1 when the committed file is out of date
//
// Edit the panels here, not in the JSON: test/dashboards/dashboard.test.ts fails when
// the committed JSON differs from this script's output. The "Reclaimable now" colours
// follow ContainerdOrphanedBytesHigh's threshold in alerts/config.yml, so a changed
// threshold means re-running this script too.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { configPath as alertsConfigPath, humanBytes } from "../alerts/build.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const dashboardPath = join(here, "containerd-orphans.json");

const RUNBOOK = "https://github.com/containerd-orphan-exporter/containerd-orphan-exporter/blob/main/docs/runbook.md";
const DS = { type: "prometheus", uid: "${datasource}" };
/** Every series selector carries these; namespaced metrics also carry NS. */
const SEL = 'job=~"$job",instance=~"$instance"';
const NS = `${SEL},namespace=~"$namespace"`;
/** The marker test/dashboards/queries.ts looks for; see EMPTY_BY_DESIGN there. */
const EMPTY = "Empty by design";

const orphanedAlert = YAML.parse(readFileSync(alertsConfigPath, "utf8")).alerts.ContainerdOrphanedBytesHigh;
const orphanedThreshold = orphanedAlert.thresholdBytes;

/** Fixed colours per state, so a state keeps its colour across panels. */
const STATE_COLORS = {
  // resources
  in_use: "green",
  pinned: "blue",
  leased: "yellow",
  stale: "orange",
  unreferenced: "red",
  // leases
  active: "green",
  expired: "red",
  leaked: "dark-red",
  owned: "purple",
  // prune results
  success: "green",
  failure: "red",
  dry_run: "blue",
};

function colorOverrides(names) {
  return names.map((name) => ({
    matcher: { id: "byName", options: name },
    properties: [{ id: "color", value: { fixedColor: STATE_COLORS[name], mode: "fixed" } }],
  }));
}

function thresholds(...steps) {
  return {
    mode: "absolute",
    steps: [{ color: "green", value: null }, ...steps.map(([value, color]) => ({ color, value }))],
  };
}

function rangeTarget(expr, legendFormat, refId) {
  return { datasource: DS, editorMode: "code", expr, legendFormat, range: true, instant: false, refId };
}

function tableTarget(expr, refId = "A") {
  return { datasource: DS, editorMode: "code", expr, format: "table", range: false, instant: true, refId };
}

const refIds = "ABCDEFGH";
const targetsOf = (queries) => queries.map(([expr, legend], i) => rangeTarget(expr, legend, refIds[i]));

function stat({ title, description, unit, expr, base = "green", steps = [], mappings = [], noValue, graph = true, decimals }) {
  const defaults = {
    unit,
    color: { mode: "thresholds" },
    thresholds: thresholds(...steps),
    mappings,
  };
  defaults.thresholds.steps[0].color = base;
  if (noValue !== undefined) defaults.noValue = noValue;
  if (decimals !== undefined) defaults.decimals = decimals;
  return {
    type: "stat",
    title,
    description,
    datasource: DS,
    fieldConfig: { defaults, overrides: [] },
    options: {
      colorMode: "value",
      graphMode: graph ? "area" : "none",
      justifyMode: "auto",
      orientation: "auto",
      reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
      showPercentChange: false,
      textMode: "auto",
      wideLayout: true,
    },
    targets: [rangeTarget(expr, "__auto", "A")],
  };
}

function timeseries({ title, description, unit, queries, stack = false, bars = false, colors = [], min = 0, noValue }) {
  const defaults = {
    unit,
    min,
    color: { mode: "palette-classic" },
    custom: {
      drawStyle: bars ? "bars" : "line",
      lineWidth: 1,
      fillOpacity: bars ? 80 : stack ? 25 : 10,
      gradientMode: "none",
      showPoints: "never",
      spanNulls: false,
      stacking: { group: "A", mode: stack ? "normal" : "none" },
      axisPlacement: "auto",
      thresholdsStyle: { mode: "off" },
    },
    thresholds: thresholds(),
    mappings: [],
  };
  if (noValue !== undefined) defaults.noValue = noValue;
  return {
    type: "timeseries",
    title,
    description,
    datasource: DS,
    fieldConfig: { defaults, overrides: colorOverrides(colors) },
    options: {
      legend: { calcs: ["lastNotNull", "max"], displayMode: "table", placement: "bottom", showLegend: true },
      tooltip: { mode: "multi", sort: "desc" },
    },
    targets: targetsOf(queries),
  };
}

const OK_FAILED = [
  {
    type: "value",
    options: {
      0: { color: "red", index: 0, text: "Failed" },
      1: { color: "green", index: 1, text: "OK" },
    },
  },
];

function stateTimeline({ title, description, expr, legend, mappings }) {
  return {
    type: "state-timeline",
    title,
    description,
    datasource: DS,
    fieldConfig: {
      defaults: {
        unit: "none",
        color: { mode: "thresholds" },
        thresholds: { mode: "absolute", steps: [{ color: "red", value: null }, { color: "green", value: 1 }] },
        mappings,
        custom: { fillOpacity: 70, lineWidth: 0 },
      },
      overrides: [],
    },
    options: {
      alignValue: "left",
      mergeValues: true,
      rowHeight: 0.9,
      showValue: "never",
      legend: { displayMode: "list", placement: "bottom", showLegend: false },
      tooltip: { mode: "single", sort: "none" },
    },
    targets: [rangeTarget(expr, legend, "A")],
  };
}

function table({ title, description, unit, expr, columns, rename = {}, sortBy, noValue }) {
  const excludeByName = { Time: true, __name__: true, job: true };
  const defaults = { unit, color: { mode: "thresholds" }, thresholds: thresholds(), mappings: [], custom: { align: "auto" } };
  if (noValue !== undefined) defaults.noValue = noValue;
  const options = { cellHeight: "sm", showHeader: true, footer: { show: false, reducer: ["sum"], fields: "" } };
  if (sortBy) options.sortBy = [{ displayName: sortBy, desc: true }];
  return {
    type: "table",
    title,
    description,
    datasource: DS,
    fieldConfig: { defaults, overrides: [] },
    options,
    targets: [tableTarget(expr)],
    transformations: [
      {
        id: "organize",
        options: {
          excludeByName,
          indexByName: Object.fromEntries(columns.map((name, i) => [name, i])),
          renameByName: rename,
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------
// Panels, row by row: [row title, [[width, height, panel], ...]]

const overview = [
  [
    4,
    5,
    stat({
      title: "Reclaimable now",
      description:
        "Bytes a prune under the exporter's current policy would free, summed over the selected instances " +
        "(containerd_reclaimable_bytes, node level: the namespace filter does not apply). " +
        `ContainerdOrphanedBytesHigh fires above ${humanBytes(orphanedThreshold)} per instance for ${orphanedAlert.for}: ` +
        "orange from half that, red from it.",
      unit: "bytes",
      expr: `sum(containerd_reclaimable_bytes{${SEL}})`,
      steps: [
        [orphanedThreshold / 2, "orange"],
        [orphanedThreshold, "red"],
      ],
    }),
  ],
  [
    4,
    5,
    stat({
      title: "Reclaimable share of store",
      description:
        "Reclaimable bytes divided by the bytes containerd keeps on disk (content, snapshots and partial " +
        "downloads), over the selected instances. Node level: the namespace filter does not apply.",
      unit: "percentunit",
      // clamp_min: an empty store gives 0, not NaN.
      expr: `sum(containerd_reclaimable_bytes{${SEL}}) / clamp_min(sum(containerd_store_bytes{${SEL}}), 1)`,
      steps: [
        [0.1, "orange"],
        [0.25, "red"],
      ],
      decimals: 1,
    }),
  ],
  [
    3,
    5,
    stat({
      title: "Stale leases",
      description:
        "Expiring leases older than --lease.stale-after (default 1h) whose downloads are idle: the pull or build " +
        "that made them is gone, but they keep data from garbage collection until they expire (ContainerdStaleLeases).",
      unit: "short",
      expr: `sum(containerd_leases{${NS},state="stale"})`,
      steps: [[1, "orange"]],
    }),
  ],
  [
    3,
    5,
    stat({
      title: "Expired leases",
      description:
        "Leases past their containerd.io/gc.expire that containerd has not collected yet: it collects only " +
        "after a deletion, never on a timer.",
      unit: "short",
      expr: `sum(containerd_leases{${NS},state="expired"})`,
      steps: [[1, "orange"]],
    }),
  ],
  [
    4,
    5,
    stat({
      title: "Oldest stale lease age",
      description:
        "Time since the oldest stale lease among the selected namespaces and instances was created. " +
        `${EMPTY} when there is no stale lease (containerd_lease_oldest_created_timestamp_seconds is then absent).`,
      unit: "s",
      expr: `time() - min(containerd_lease_oldest_created_timestamp_seconds{${NS},state="stale"})`,
      steps: [
        [3600, "orange"],
        [8 * 3600, "red"],
      ],
      noValue: "No stale leases",
    }),
  ],
  [
    3,
    5,
    stat({
      title: "containerd up",
      description:
        "Whether the exporter reached containerd at its last scrape: Down when any selected instance could not. " +
        "No data means Prometheus is not scraping the exporter (see ContainerdExporterDown).",
      unit: "none",
      expr: `min(containerd_up{${SEL}})`,
      base: "red",
      steps: [[1, "green"]],
      mappings: [
        {
          type: "value",
          options: {
            0: { color: "red", index: 0, text: "Down" },
            1: { color: "green", index: 1, text: "Up" },
          },
        },
      ],
      graph: false,
    }),
  ],
  [
    3,
    5,
    stat({
      title: "Last successful prune",
      description:
        "When a prune last succeeded, for the selected instance that pruned longest ago. " +
        `${EMPTY} until the first successful prune since the exporter started ` +
        "(containerd_prune_last_success_timestamp_seconds is absent until then).",
      unit: "dateTimeFromNow",
      expr: `min(containerd_prune_last_success_timestamp_seconds{${SEL}}) * 1000`,
      noValue: "Never",
      graph: false,
    }),
  ],
];

const storage = [
  [
    12,
    8,
    timeseries({
      title: "Content bytes by state",
      description:
        "Blob bytes per state, summed over the selected namespaces. in_use: reachable from an image, a container or a " +
        "containerd.io/gc.root label; pinned: held by an owned or leaked lease, or one a prune refuses; leased: held by an active lease; stale: held " +
        "only by stale or expired leases; unreferenced: held by nothing, freed by containerd's next GC. stale and " +
        "unreferenced are what a prune frees. A blob present in several namespaces is counted in each; " +
        "containerd_store_bytes counts it once.",
      unit: "bytes",
      stack: true,
      queries: [[`sum by (state) (containerd_content_bytes{${NS}})`, "{{state}}"]],
      colors: ["in_use", "pinned", "leased", "stale", "unreferenced"],
    }),
  ],
  [
    12,
    8,
    timeseries({
      title: "Snapshot bytes by state",
      description:
        "Unpacked layer and container snapshot bytes per state (same states as content), summed over snapshotters " +
        "and the selected namespaces. The extract-… snapshots of an interrupted unpack show up as stale or unreferenced.",
      unit: "bytes",
      stack: true,
      queries: [[`sum by (state) (containerd_snapshot_bytes{${NS}})`, "{{state}}"]],
      colors: ["in_use", "pinned", "leased", "stale", "unreferenced"],
    }),
  ],
  [
    12,
    8,
    timeseries({
      title: "Partial download bytes by state",
      description:
        "Bytes written so far by unfinished downloads (ingests) per state: pinned (held by an owned or leaked lease), leased " +
        "(held by an active lease, or written within --ingest.idle-after, default 10m) and stale (idle and held by no " +
        "active lease: a prune aborts it).",
      unit: "bytes",
      stack: true,
      queries: [[`sum by (state) (containerd_ingest_bytes{${NS}})`, "{{state}}"]],
      colors: ["pinned", "leased", "stale"],
    }),
  ],
  [
    12,
    8,
    timeseries({
      title: "On disk and reclaimable by resource",
      description:
        "Per resource (content, snapshot, ingest): bytes containerd keeps on disk, counted once per blob, and the " +
        "part a prune would free. Node level: the namespace filter does not apply.",
      unit: "bytes",
      queries: [
        [`sum by (resource) (containerd_store_bytes{${SEL}})`, "{{resource}} on disk"],
        [`sum by (resource) (containerd_reclaimable_bytes{${SEL}})`, "{{resource}} reclaimable"],
      ],
    }),
  ],
];

const leases = [
  [
    12,
    8,
    timeseries({
      title: "Leases by state",
      description:
        "Lease count per state. active: younger than --lease.stale-after (default 1h) or still downloading; stale: " +
        "older, downloads idle, expiry ahead; expired: past containerd.io/gc.expire, waiting for a GC; leaked: no " +
        "expiry and no owner claims it (a cancelled docker save, a lease made by hand); owned: no expiry, kept on " +
        "purpose (Docker container layers, BuildKit cache, CRI sandboxes, k3s imports).",
      unit: "short",
      stack: true,
      queries: [[`sum by (state) (containerd_leases{${NS}})`, "{{state}}"]],
      colors: ["active", "stale", "expired", "leaked", "owned"],
    }),
  ],
  [
    12,
    8,
    timeseries({
      title: "Oldest lease age by state",
      description:
        "Age of the oldest lease in each state over the selected namespaces. " +
        `${EMPTY} for a state with no lease: containerd_lease_oldest_created_timestamp_seconds is absent for it.`,
      unit: "s",
      queries: [
        [`time() - min by (state) (containerd_lease_oldest_created_timestamp_seconds{${NS}})`, "{{state}}"],
      ],
      colors: ["active", "stale", "expired", "leaked", "owned"],
    }),
  ],
  [
    24,
    10,
    table({
      title: "Stuck leases by held bytes",
      description:
        "Stale, expired and leaked leases with their owner and the bytes each holds that nothing outside leases " +
        "needs (the largest --metrics.lease-detail-limit per namespace, default 10; owned leases never take a " +
        "place). Prune deletes stale and expired ones; a leaked one only when named: read the runbook first. " +
        `${EMPTY} when no stale, expired or leaked lease exists (or the limit is 0).`,
      unit: "bytes",
      expr: `sort_desc(sum by (instance, namespace, lease, state, owner) (containerd_lease_held_bytes{${NS}}))`,
      columns: ["instance", "namespace", "lease", "state", "owner", "Value"],
      rename: { Value: "Held bytes" },
      sortBy: "Held bytes",
      noValue: "No stuck leases",
    }),
  ],
];

const ingests = [
  [
    8,
    8,
    timeseries({
      title: "Partial downloads by state",
      description:
        "Unfinished downloads (containerd ingests, `ctr content active`) per state. A pull in progress is leased; " +
        "stale ones were abandoned and a prune aborts them; pinned ones are held by an owned or leaked lease.",
      unit: "short",
      stack: true,
      queries: [[`sum by (state) (containerd_ingests{${NS}})`, "{{state}}"]],
      colors: ["pinned", "leased", "stale"],
    }),
  ],
  [
    8,
    8,
    timeseries({
      title: "Partial download bytes by namespace",
      description: "Bytes written so far by unfinished downloads, per namespace, all states.",
      unit: "bytes",
      stack: true,
      queries: [[`sum by (namespace) (containerd_ingest_bytes{${NS}})`, "{{namespace}}"]],
    }),
  ],
  [
    8,
    8,
    timeseries({
      title: "Idle time of the oldest partial download",
      description:
        "Time since the least recently written partial download in each namespace last received data; a download " +
        `that keeps going stays near zero. ${EMPTY} for a namespace with no partial download ` +
        "(containerd_ingest_oldest_updated_timestamp_seconds is then absent).",
      unit: "s",
      queries: [
        [
          `time() - min by (instance, namespace) (containerd_ingest_oldest_updated_timestamp_seconds{${NS}})`,
          "{{namespace}} on {{instance}}",
        ],
      ],
    }),
  ],
];

const prune = [
  [
    8,
    8,
    timeseries({
      title: "Prune runs by result",
      description:
        "Prune runs through /admin/prune per result (success, failure, dry_run) in each interval " +
        "(ContainerdPruneFailing). `containerd-orphan-exporter prune` on the command line runs in its own process " +
        "and does not show here.",
      unit: "short",
      bars: true,
      stack: true,
      queries: [[`sum by (result) (increase(containerd_prune_runs_total{${SEL}}[$__rate_interval]))`, "{{result}}"]],
      colors: ["success", "failure", "dry_run"],
    }),
  ],
  [
    8,
    8,
    timeseries({
      title: "Bytes reclaimed by prune",
      description:
        "Bytes freed by prune runs through /admin/prune (not dry runs) in each interval, measured as store bytes " +
        "before minus after.",
      unit: "bytes",
      bars: true,
      queries: [[`sum(increase(containerd_prune_reclaimed_bytes_total{${SEL}}[$__rate_interval]))`, "reclaimed"]],
    }),
  ],
  [
    8,
    8,
    timeseries({
      title: "Leases deleted and downloads aborted by prune",
      description: "Leases deleted and partial downloads (ingests) aborted by prune runs in each interval.",
      unit: "short",
      bars: true,
      queries: [
        [`sum(increase(containerd_prune_leases_deleted_total{${SEL}}[$__rate_interval]))`, "leases deleted"],
        [`sum(increase(containerd_prune_ingests_aborted_total{${SEL}}[$__rate_interval]))`, "ingests aborted"],
      ],
    }),
  ],
];

const health = [
  [
    12,
    8,
    stateTimeline({
      title: "Collector success",
      description:
        "Whether each collector succeeded at the last scrape; Failed when it failed on any selected instance. " +
        "A failed collector leaves its metrics missing or incomplete (ContainerdScrapeCollectorFailing).",
      expr: `min by (collector) (containerd_scrape_collector_success{${SEL}})`,
      legend: "{{collector}}",
      mappings: OK_FAILED,
    }),
  ],
  [
    12,
    8,
    timeseries({
      title: "Collector duration",
      description:
        "Time each collector took at the last scrape, slowest selected instance. Approaching Prometheus' " +
        "scrape_timeout means scrapes are about to fail.",
      unit: "s",
      queries: [[`max by (collector) (containerd_scrape_collector_duration_seconds{${SEL}})`, "{{collector}}"]],
    }),
  ],
  [
    12,
    8,
    stateTimeline({
      title: "containerd reachable per instance",
      description:
        "containerd_up per instance: whether the exporter reached containerd at each scrape (ContainerdUnreachable).",
      expr: `containerd_up{${SEL}}`,
      legend: "{{instance}}",
      mappings: [
        {
          type: "value",
          options: {
            0: { color: "red", index: 0, text: "Down" },
            1: { color: "green", index: 1, text: "Up" },
          },
        },
      ],
    }),
  ],
  [
    6,
    8,
    table({
      title: "Exporter versions",
      description: "containerd_exporter_build_info: the exporter's version, git revision and Node.js version, per instance.",
      unit: "none",
      expr: `max by (instance, version, revision, nodeversion) (containerd_exporter_build_info{${SEL}})`,
      columns: ["instance", "version", "revision", "nodeversion"],
      rename: { version: "exporter", nodeversion: "node" },
    }),
  ],
  [
    6,
    8,
    table({
      title: "containerd versions",
      description: "containerd_info: the version and revision of the containerd each exporter reads; an instance whose containerd does not answer has no row.",
      unit: "none",
      expr: `max by (instance, version, revision) (containerd_info{${SEL}})`,
      columns: ["instance", "version", "revision"],
      rename: { version: "containerd" },
    }),
  ],
];
// The info values are always 1: hide them.
health[3][2].transformations[0].options.excludeByName.Value = true;
health[4][2].transformations[0].options.excludeByName.Value = true;

const ROWS = [
  ["Overview", overview],
  ["Storage by state", storage],
  ["Leases", leases],
  ["Ingests (partial downloads)", ingests],
  ["Prune", prune],
  ["Exporter health", health],
];

function layout(rows) {
  const panels = [];
  let id = 1;
  let y = 0;
  for (const [title, items] of rows) {
    panels.push({ type: "row", title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, id: id++, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const [w, h, panel] of items) {
      if (x + w > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      const { type, title: panelTitle, description, datasource, ...rest } = panel;
      panels.push({ type, title: panelTitle, description, datasource, gridPos: { h, w, x, y }, id: id++, ...rest });
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return panels;
}

function queryVariable({ name, label, query, allValue }) {
  const variable = {
    name,
    label,
    type: "query",
    datasource: DS,
    definition: query,
    query: { qryType: 1, query, refId: "PrometheusVariableQueryEditor-VariableQuery" },
    refresh: 2,
    regex: "",
    sort: 1,
    multi: true,
    includeAll: true,
    current: { selected: true, text: ["All"], value: ["$__all"] },
    hide: 0,
    options: [],
  };
  if (allValue !== undefined) variable.allValue = allValue;
  return variable;
}

export function buildDashboard() {
  return {
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: "grafana", uid: "-- Grafana --" },
          enable: true,
          hide: true,
          iconColor: "rgba(0, 211, 255, 1)",
          name: "Annotations & Alerts",
          type: "dashboard",
        },
      ],
    },
    description:
      "Disk space containerd holds for nobody: leases left behind by cancelled pulls, partial downloads and " +
      "orphaned snapshots, as measured by containerd-orphan-exporter, and what pruning gave back.",
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [
      {
        title: "Runbook",
        type: "link",
        url: RUNBOOK,
        icon: "doc",
        targetBlank: true,
        asDropdown: false,
        includeVars: false,
        keepTime: false,
        tags: [],
        tooltip: "What each alert means and how to prune safely",
      },
    ],
    panels: layout(ROWS),
    refresh: "1m",
    schemaVersion: 39,
    tags: ["containerd", "containerd-orphan-exporter", "storage"],
    templating: {
      list: [
        {
          name: "datasource",
          label: "Data source",
          type: "datasource",
          query: "prometheus",
          regex: "",
          current: {},
          hide: 0,
          includeAll: false,
          multi: false,
          options: [],
          refresh: 1,
        },
        // job: no custom "All" value, so All expands to the discovered jobs only and
        // never matches other exporters' series.
        queryVariable({ name: "job", label: "Job", query: "label_values(containerd_up, job)" }),
        queryVariable({
          name: "instance",
          label: "Instance",
          query: 'label_values(containerd_up{job=~"$job"}, instance)',
          allValue: ".*",
        }),
        queryVariable({
          name: "namespace",
          label: "containerd namespace",
          query: 'label_values(containerd_leases{job=~"$job",instance=~"$instance"}, namespace)',
          allValue: ".*",
        }),
      ],
    },
    time: { from: "now-24h", to: "now" },
    timepicker: {},
    timezone: "",
    title: "containerd orphaned storage",
    uid: "containerd-orphans",
    version: 1,
    weekStart: "",
  };
}

export function render() {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = render();
  const mode = process.argv[2];
  if (mode === "--stdout") {
    process.stdout.write(text);
  } else if (mode === "--check") {
    if (readFileSync(dashboardPath, "utf8") !== text) {
      console.error("dashboards/containerd-orphans.json is out of date: run `node dashboards/build.mjs`");
      process.exit(1);
    }
  } else if (mode === undefined) {
    writeFileSync(dashboardPath, text);
    console.log(`wrote ${dashboardPath}`);
  } else {
    console.error("usage: node dashboards/build.mjs [--stdout|--check]");
    process.exit(2);
  }
}
