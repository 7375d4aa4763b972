#!/usr/bin/env node
// Renders alerts/containerd-orphans.rules.yml from alerts/config.yml.
//
//   node alerts/build.mjs           rewrite the rules file
//   node alerts/build.mjs --stdout  print what would be written
//   node alerts/build.mjs --check   exit 1 when the committed file is out of date
//
// Thresholds, `for` durations, severities and the job selector live in config.yml;
// the expressions and annotation texts live here. Only `node:` built-ins and the
// `yaml` package (a runtime dependency of the exporter) are used.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
export const configPath = join(here, "config.yml");
export const rulesPath = join(here, "containerd-orphans.rules.yml");

const DURATION = /^(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?$/;
const SEVERITIES = new Set(["critical", "warning", "info"]);

function fail(message) {
  throw new Error(`alerts/config.yml: ${message}`);
}

function duration(value, where) {
  if (typeof value !== "string" || value === "" || !DURATION.test(value)) {
    fail(`${where} must be a Prometheus duration such as 30m or 1h, got ${JSON.stringify(value)}`);
  }
  return value;
}

function bytes(value, where) {
  if (!Number.isSafeInteger(value) || value < 0) fail(`${where} must be a whole number of bytes >= 0`);
  return value;
}

/** 10737418240 -> "10 GiB", for annotation texts (Prometheus' humanize1024 is for $value). */
export function humanBytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number(value.toFixed(2))} ${units[unit]}`;
}

const quote = (s) => JSON.stringify(s);

/** The alerts, in rules-file order: [group, name, build(cfg, sel, knobs) => {expr, summary, description}]. */
const ALERTS = [
  [
    "containerd-orphans",
    "ContainerdOrphanedBytesHigh",
    ({ sel }, k) => ({
      // The exporter leaves the series out while containerd does not answer (nothing is known);
      // last_over_time keeps the last value known so an outage neither resolves nor restarts `for`.
      expr: `sum by (job, instance) (last_over_time(containerd_reclaimable_bytes{${sel}}[${duration(k.holdDuringOutage, "ContainerdOrphanedBytesHigh.holdDuringOutage")}])) > ${bytes(k.thresholdBytes, "ContainerdOrphanedBytesHigh.thresholdBytes")}`,
      summary: "containerd holds a lot of disk space that nothing uses.",
      description:
        `containerd on {{ $labels.instance }} (job {{ $labels.job }}) has held {{ $value | humanize1024 }}B ` +
        `that a prune would free for more than ${k.for} (threshold ${humanBytes(k.thresholdBytes)}): ` +
        "leases left behind by cancelled pulls, partial downloads and orphaned snapshots.",
    }),
  ],
  [
    "containerd-orphans",
    "ContainerdStaleLeases",
    ({ sel }, k) => ({
      expr: `sum by (job, instance, namespace) (containerd_leases{${sel},state="stale"}) > 0`,
      summary: "containerd leases have outlived the client that created them.",
      description:
        "{{ $value | humanize }} lease(s) in namespace {{ $labels.namespace }} on {{ $labels.instance }} " +
        `have been stale for more than ${k.for}: the pull or build that created them is gone, yet they ` +
        "keep content, partial downloads and snapshots from garbage collection until they expire.",
    }),
  ],
  [
    "containerd-orphans",
    "ContainerdExpiredLeasesNotCollected",
    ({ sel }, k) => ({
      expr: `sum by (job, instance, namespace) (containerd_leases{${sel},state="expired"}) > 0`,
      summary: "Expired containerd leases are not being garbage-collected.",
      description:
        "{{ $value | humanize }} expired lease(s) in namespace {{ $labels.namespace }} on {{ $labels.instance }} " +
        `have not been collected for more than ${k.for}. containerd collects only after a deletion, never on ` +
        "a timer, so expired leases and what they hold stay on disk until something triggers a collection.",
    }),
  ],
  [
    "containerd-orphans",
    "ContainerdLeakedLeases",
    ({ sel }, k) => ({
      expr: `sum by (job, instance, namespace) (containerd_leases{${sel},state="leaked"}) > 0`,
      summary: "containerd leases that never expire and belong to no one.",
      description:
        "{{ $value | humanize }} lease(s) in namespace {{ $labels.namespace }} on {{ $labels.instance }} " +
        `have been leaked for more than ${k.for}: no gc.expire and no owner the exporter recognises (not a ` +
        "container's layer, a BuildKit cache, a sandbox or a k3s import). containerd never drops them and no " +
        "default prune does: name them in a prune once the runbook's checks pass.",
    }),
  ],
  [
    "containerd-orphans",
    "ContainerdUnreferencedDataPersisting",
    ({ sel }, k) => ({
      expr: [
        "sum by (job, instance, namespace) (",
        `  containerd_content_bytes{${sel},state="unreferenced"}`,
        "  or",
        `  containerd_snapshot_bytes{${sel},state="unreferenced"}`,
        `) > ${bytes(k.thresholdBytes, "ContainerdUnreferencedDataPersisting.thresholdBytes")}`,
      ].join("\n"),
      summary: "containerd keeps content or snapshots that nothing references.",
      description:
        "{{ $value | humanize1024 }}B of content and snapshots in namespace {{ $labels.namespace }} on " +
        `{{ $labels.instance }} has been referenced by nothing for more than ${k.for}. containerd frees it ` +
        "at its next garbage collection, which only a deletion triggers.",
    }),
  ],
  [
    "containerd-orphan-exporter",
    "ContainerdExporterDown",
    ({ sel, cfg }, k) => ({
      // 1. targets that exist but fail to be scraped;
      // 2. nothing matches the job regex at all (absent() keeps no regex matcher, so the
      //    job label is set by hand);
      // 3. a job that had targets within the lookback and has none now. Where 2 and 3
      //    both apply to the default job they yield the same labels and `or` keeps one.
      //    The subquery looks at one point per job every 5m: max_over_time(up[1d]) would
      //    read every sample of every target of the day on each evaluation.
      expr: [
        `up{${sel}} == 0`,
        "or",
        `label_replace(absent(up{${sel}}), "job", ${quote(cfg.absentJobName)}, "", "")`,
        "or",
        "(",
        `  max_over_time(group by (job) (up{${sel}})[${cfg.vanishedJobLookback}:5m])`,
        "  unless on (job)",
        `  group by (job) (up{${sel}})`,
        ")",
      ].join("\n"),
      summary: "Prometheus cannot scrape containerd-orphan-exporter.",
      description:
        "{{ if $labels.instance }}Prometheus has failed to scrape {{ $labels.instance }} (job {{ $labels.job }})" +
        `{{ else }}Job {{ $labels.job }} has had no scrape target{{ end }} for more than ${k.for}: ` +
        "containerd's orphaned disk space goes unwatched there and the other Containerd alerts cannot fire.",
    }),
  ],
  [
    "containerd-orphan-exporter",
    "ContainerdUnreachable",
    ({ sel }, k) => ({
      expr: `containerd_up{${sel}} == 0`,
      summary: "containerd-orphan-exporter cannot reach containerd.",
      description:
        `The exporter at {{ $labels.instance }} (job {{ $labels.job }}) has not reached containerd for more than ${k.for}: ` +
        "containerd is down, or the exporter uses the wrong socket or may not open it.",
    }),
  ],
  [
    "containerd-orphan-exporter",
    "ContainerdScrapeCollectorFailing",
    ({ sel }, k) => ({
      // When containerd itself is unreachable every collector fails: ContainerdUnreachable covers that.
      expr: [
        `containerd_scrape_collector_success{${sel}} == 0`,
        "unless on (job, instance)",
        `containerd_up{${sel}} == 0`,
      ].join("\n"),
      summary: "A containerd-orphan-exporter collector is failing.",
      description:
        `The {{ $labels.collector }} collector of the exporter at {{ $labels.instance }} has been failing for more than ${k.for}: ` +
        "the metrics it feeds are missing or incomplete, so reclaimable bytes and the alerts built on them may be understated.",
    }),
  ],
  [
    "containerd-orphan-exporter",
    "ContainerdPruneFailing",
    ({ sel }, k) => {
      const window = duration(k.window, "ContainerdPruneFailing.window");
      const failures = `containerd_prune_runs_total{${sel},result="failure"}`;
      return {
        // increase() cannot see the first failure of a series that is born at 1 (a
        // counter child created on first use): the second clause catches a failure
        // series that did not exist one window ago. `or` matches ignoring the metric
        // name, so when both clauses hold there is still one alert.
        expr: [
          `increase(${failures}[${window}]) > 0`,
          "or",
          "(",
          `  ${failures} > 0`,
          "  unless",
          `  ${failures} offset ${window}`,
          ")",
        ].join("\n"),
        summary: "Pruning containerd's orphaned storage fails.",
        description:
          `{{ printf "%.0f" $value }} prune run(s) on {{ $labels.instance }} (job {{ $labels.job }}) failed within the last ${window}: ` +
          "the orphaned disk space they were meant to free is still held.",
      };
    },
  ],
];

export const ALERT_NAMES = ALERTS.map(([, name]) => name);

/** Returns the rules file text for a parsed config. */
export function render(cfg) {
  if (typeof cfg?.jobRegex !== "string" || cfg.jobRegex === "") fail("jobRegex must be a non-empty string");
  if (typeof cfg.absentJobName !== "string" || cfg.absentJobName === "") fail("absentJobName must be a non-empty string");
  if (typeof cfg.runbookBase !== "string" || !/^https?:\/\//.test(cfg.runbookBase)) fail("runbookBase must be a URL");
  duration(cfg.vanishedJobLookback, "vanishedJobLookback");
  const known = new Set(ALERT_NAMES);
  for (const name of Object.keys(cfg.alerts ?? {})) {
    if (!known.has(name)) fail(`alerts.${name} is not an alert build.mjs knows (${ALERT_NAMES.join(", ")})`);
  }
  const sel = `job=~${quote(cfg.jobRegex)}`;
  const groups = new Map();
  for (const [group, name, build] of ALERTS) {
    const k = cfg.alerts?.[name];
    if (k === undefined) fail(`alerts.${name} is missing`);
    if (!SEVERITIES.has(k.severity)) fail(`alerts.${name}.severity must be one of ${[...SEVERITIES].join(", ")}`);
    duration(k.for, `alerts.${name}.for`);
    const { expr, summary, description } = build({ sel, cfg }, k);
    const rule = { alert: name, expr };
    if (!/^0+[a-z]*$/.test(k.for)) rule.for = k.for;
    rule.labels = { severity: k.severity };
    rule.annotations = { summary, description, runbook_url: `${cfg.runbookBase}#${name.toLowerCase()}` };
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push(rule);
  }
  const doc = new YAML.Document({ groups: [...groups].map(([name, rules]) => ({ name, rules })) });
  doc.commentBefore =
    " Generated by alerts/build.mjs from alerts/config.yml: edit those and run `node alerts/build.mjs`.\n" +
    " Unit tests: promtool test rules alerts/tests/*.yml. Runbook: docs/runbook.md.";
  return doc.toString({ lineWidth: 0 });
}

export function renderFromFile(path = configPath) {
  return render(YAML.parse(readFileSync(path, "utf8")));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = renderFromFile();
  const mode = process.argv[2];
  if (mode === "--stdout") {
    process.stdout.write(text);
  } else if (mode === "--check") {
    if (readFileSync(rulesPath, "utf8") !== text) {
      console.error("alerts/containerd-orphans.rules.yml is out of date: run `node alerts/build.mjs`");
      process.exit(1);
    }
  } else if (mode === undefined) {
    writeFileSync(rulesPath, text);
    console.log(`wrote ${rulesPath}`);
  } else {
    console.error("usage: node alerts/build.mjs [--stdout|--check]");
    process.exit(2);
  }
}
