// End to end: a real containerd with cut pulls (the scene) -> the exporter -> a real Prometheus
// loading the generated alert rules (a test copy with short `for:` and a low threshold) -> a real
// Alertmanager -> a webhook. Proves the alerts fire with the right labels and annotations, every
// dashboard query answers on live data, and a prune through the admin API resolves the alerts.
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import type { PruneReport } from "../../src/prune/pruner.js";
import { waitFor } from "../lab/wait.js";
import {
  type DashboardQuery,
  extractQueries,
  extractVariableQueries,
  loadDashboard,
  selectors,
  type VariableValues,
} from "../dashboards/queries.js";
import { startTestApp, type TestApp } from "../support/app.js";
import {
  type Alertmanager,
  checkRules,
  type Prometheus,
  PrometheusApiError,
  startAlertmanager,
  startPrometheus,
} from "../support/prometheus.js";
import { buildScene, type Scene } from "../support/scene.js";
import { type NotifiedAlert, startWebhook, type Webhook } from "../support/webhook.js";
import { fetchPrune } from "../support/prune-check.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const TOKEN = "e2e-alerting-token";
/** The documented job name; the rules select job=~"containerd-orphan-exporter.*". */
const JOB = "containerd-orphan-exporter";
/** `for:` of the orphan alerts in the test copy of the rules. */
const ORPHAN_FOR = "2s";
/** `for:` of the exporter-health alerts (their rules are loaded once the target is up, see beforeAll). */
const HEALTH_FOR = "5s";
const THRESHOLD_BYTES = 1024;
const ORPHAN_ALERTS = [
  "ContainerdOrphanedBytesHigh",
  "ContainerdStaleLeases",
  "ContainerdExpiredLeasesNotCollected",
  "ContainerdLeakedLeases",
  "ContainerdUnreferencedDataPersisting",
];
/** Alerts about the exporter itself: none may fire while everything is healthy. */
const HEALTH_ALERTS = ["ContainerdExporterDown", "ContainerdUnreachable", "ContainerdScrapeCollectorFailing", "ContainerdPruneFailing"];

interface AlertsConfig {
  runbookBase: string;
  jobRegex: string;
  alerts: Record<string, { severity: string; for: string; thresholdBytes?: number; [knob: string]: unknown }>;
}
interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface RuleFile {
  groups: Array<{ name: string; rules: AlertRule[] }>;
}

const committedConfig = YAML.parse(readFileSync(join(ROOT, "alerts/config.yml"), "utf8")) as AlertsConfig;
const committedRules = (YAML.parse(readFileSync(join(ROOT, "alerts/containerd-orphans.rules.yml"), "utf8")) as RuleFile)
  .groups.flatMap((g) => g.rules);

let tmp: string;
let scene: Scene | undefined;
let t: TestApp | undefined;
let webhook: Webhook | undefined;
let alertmanager: Alertmanager | undefined;
let prometheus: Prometheus | undefined;
let instance: string;
let testRules: AlertRule[];
const scrapeTimeoutHeaders: string[] = [];

/**
 * The test copy of the rules: alerts/config.yml with the ContainerdOrphanedBytesHigh threshold
 * at 1 KiB and short `for:` durations, rendered by alerts/build.mjs's own renderFromFile().
 */
async function renderTestRules(dir: string): Promise<string> {
  const config = structuredClone(committedConfig);
  for (const [name, knobs] of Object.entries(config.alerts)) {
    if (ORPHAN_ALERTS.includes(name)) knobs.for = ORPHAN_FOR;
    else if (knobs.for !== "0m") knobs.for = HEALTH_FOR;
  }
  const bytesHigh = config.alerts["ContainerdOrphanedBytesHigh"];
  if (!bytesHigh) throw new Error("alerts/config.yml has no ContainerdOrphanedBytesHigh");
  bytesHigh.thresholdBytes = THRESHOLD_BYTES;
  const configFile = join(dir, "alerts-config.yml");
  writeFileSync(configFile, YAML.stringify(config));
  // A computed specifier: build.mjs has no type declarations, and this keeps tsc out of it.
  const generator = (await import(pathToFileURL(join(ROOT, "alerts/build.mjs")).href)) as {
    renderFromFile(path: string): string;
  };
  const rulesFile = join(dir, "containerd-orphans.test-copy.rules.yml");
  writeFileSync(rulesFile, generator.renderFromFile(configFile));
  await checkRules(rulesFile);
  return rulesFile;
}

const getText = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(5_000) }).then(
    (r) => r.text(),
    (e: Error) => `(failed: ${e.message})`,
  );

/** Prometheus' and Alertmanager's view, for timeout messages. */
const diagnostics = async () => {
  const parts = [await prometheus?.diagnostics()];
  if (prometheus) {
    const self = (await getText(`${prometheus.url}/metrics`)).split("\n");
    parts.push(`--- Prometheus' notifier metrics\n${self.filter((l) => l.startsWith("prometheus_notifications_")).join("\n")}`);
  }
  if (alertmanager) {
    parts.push(
      `--- Alertmanager /api/v2/alerts\n${await getText(`${alertmanager.url}/api/v2/alerts`)}`,
      `--- Alertmanager log (tail)\n${alertmanager.logTail(15)}`,
    );
  }
  return parts.join("\n");
};

const firing = (name: string, extra: Record<string, string> = {}) => (a: NotifiedAlert) =>
  a.status === "firing" && a.labels["alertname"] === name && Object.entries(extra).every(([k, v]) => a.labels[k] === v);
const resolved = (name: string, extra: Record<string, string> = {}) => (a: NotifiedAlert) =>
  a.status === "resolved" && a.labels["alertname"] === name && Object.entries(extra).every(([k, v]) => a.labels[k] === v);

/** Prometheus' humanize1024 template function (%.4g with Ki, Mi, Gi... prefixes), read back as a number. */
function parseHumanize1024(text: string): number {
  const m = /^(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi)?$/.exec(text);
  if (!m) throw new Error(`not a humanize1024 value: ${text}`);
  const power = ["", "Ki", "Mi", "Gi", "Ti", "Pi"].indexOf(m[2] ?? "");
  return Number(m[1]) * 1024 ** power;
}

/** The GitHub anchor of a markdown heading. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, "")
    .replace(/ /g, "-");

function variables(): VariableValues {
  return { job: JOB, instance: instance.replace(/\./g, "\\."), namespace: ".*", rateInterval: "1m" };
}

async function runQuery(q: DashboardQuery): Promise<number> {
  try {
    const data = await prometheus!.query(q.expr);
    return data.resultType === "vector" || data.resultType === "matrix" ? data.result.length : 1;
  } catch (error) {
    if (error instanceof PrometheusApiError) {
      throw new Error(`dashboard panel "${q.panel}" (${q.refId}) fails in Prometheus: ${error.message}\n  ${q.expr}`);
    }
    throw error;
  }
}

async function stopAll(): Promise<void> {
  const steps: Array<() => Promise<unknown> | undefined> = [
    () => prometheus?.stop(),
    () => alertmanager?.stop(),
    () => webhook?.close(),
    () => t?.close(),
    () => scene?.stop(),
  ];
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  if (failures.length > 0) throw failures[0];
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "e2e-alerting-"));
  const rulesFile = await renderTestRules(tmp);
  testRules = (YAML.parse(readFileSync(rulesFile, "utf8")) as RuleFile).groups.flatMap((g) => g.rules);

  scene = await buildScene();
  t = await startTestApp(
    [`--containerd.address=${scene.lab.socket}`, "--lease.stale-after=1s", "--ingest.idle-after=1s", "--prune.confirm-window=1s"],
    { ADMIN_TOKEN: TOKEN },
  );
  // Watch the raw requests to see what Prometheus sends (an extra listener; fastify still answers).
  t.app.server.on("request", (request: IncomingMessage) => {
    const header = request.headers["x-prometheus-scrape-timeout-seconds"];
    if (typeof header === "string") scrapeTimeoutHeaders.push(header);
  });
  await t.app.listen({ host: "127.0.0.1", port: 0 });
  instance = `127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;

  webhook = await startWebhook();
  alertmanager = await startAlertmanager({ webhookUrl: webhook.url, groupWait: "1s", groupInterval: "1s", repeatInterval: "1h" });
  // Prometheus starts without rules and gets them once it has scraped the exporter: its scrape
  // manager applies new targets on a 5 s tick, so for the first seconds no `up` series exists and
  // ContainerdExporterDown's absent() clause is (rightly) pending. With the 5 s `for:` of the test
  // copy (15m in production) that startup gap alone could make it fire. The reload empties
  // Prometheus' Alertmanager set for a moment and alerts sent then are dropped: the helper's
  // --rules.alert.resend-delay=1s (1m by default) sends them again a second later.
  prometheus = await startPrometheus({
    scrape: [{ job: JOB, targets: [instance] }],
    ruleFiles: [],
    alertmanager: alertmanager.address,
    scrapeInterval: "1s",
    evaluationInterval: "1s",
  });
  await waitFor(
    "Prometheus to scrape the exporter successfully, containerd reachable",
    async () => (await prometheus!.vector(`up{job="${JOB}"} == 1 and on (instance) containerd_up{job="${JOB}"} == 1`)).length === 1,
    { timeoutMs: 30_000, intervalMs: 250, describe: diagnostics },
  );
  await prometheus.loadRules([rulesFile]);
}, 150_000);

afterAll(async () => {
  await stopAll();
}, 60_000);

describe("alerts and dashboard against a real Prometheus and Alertmanager", () => {
  it("uses a copy of the generated rules that differs only in threshold and `for`", () => {
    expect(testRules.map((r) => r.alert)).toEqual(committedRules.map((r) => r.alert));
    for (const rule of testRules) {
      const committed = committedRules.find((r) => r.alert === rule.alert)!;
      expect(rule.labels, rule.alert).toEqual(committed.labels);
      expect(rule.annotations.runbook_url, rule.alert).toBe(committed.annotations.runbook_url);
      const expected =
        rule.alert === "ContainerdOrphanedBytesHigh"
          ? committed.expr.replace(`> ${committedConfig.alerts["ContainerdOrphanedBytesHigh"]?.thresholdBytes}`, `> ${THRESHOLD_BYTES}`)
          : committed.expr;
      expect(rule.expr, rule.alert).toBe(expected);
      expect(rule.expr, rule.alert).toContain(`job=~${JSON.stringify(committedConfig.jobRegex)}`);
      expect(rule.for, rule.alert).toBe(
        ORPHAN_ALERTS.includes(rule.alert) ? ORPHAN_FOR : committed.for === undefined ? undefined : HEALTH_FOR,
      );
    }
    expect(new RegExp(`^(?:${committedConfig.jobRegex})$`).test(JOB)).toBe(true);
  });

  it("scrapes the exporter with Prometheus' timeout header, every collector succeeding", async () => {
    const up = await prometheus!.vector(`up{job="${JOB}"}`);
    expect(up.map((s) => [s.metric["instance"], s.value[1]])).toEqual([[instance, "1"]]);
    const [target] = (await prometheus!.api<{ activeTargets: Array<{ scrapeUrl: string; health: string }> }>("targets")).activeTargets;
    expect(target?.scrapeUrl).toBe(`http://${instance}/metrics`);
    expect(scrapeTimeoutHeaders.length).toBeGreaterThan(0);
    expect(new Set(scrapeTimeoutHeaders)).toEqual(new Set(["1"]));
    const failing = await prometheus!.vector(`containerd_scrape_collector_success{job="${JOB}"} == 0`);
    expect(failing).toEqual([]);
    expect((await prometheus!.vector(`containerd_scrape_collector_success{job="${JOB}"}`)).length).toBeGreaterThan(0);
  });

  it("delivers ContainerdOrphanedBytesHigh and ContainerdStaleLeases to the webhook, firing, with labels and annotations", async () => {
    const options = { timeoutMs: 45_000, describe: diagnostics };
    const bytesHigh = await webhook!.waitForAlert("ContainerdOrphanedBytesHigh firing at the webhook", firing("ContainerdOrphanedBytesHigh"), options);
    const staleDl = await webhook!.waitForAlert(
      'ContainerdStaleLeases{namespace="dl"} firing at the webhook',
      firing("ContainerdStaleLeases", { namespace: "dl" }),
      options,
    );
    const staleUnpack = await webhook!.waitForAlert(
      'ContainerdStaleLeases{namespace="unpack"} firing at the webhook',
      firing("ContainerdStaleLeases", { namespace: "unpack" }),
      options,
    );
    const leaked = await webhook!.waitForAlert(
      'ContainerdLeakedLeases{namespace="keep"} firing at the webhook',
      firing("ContainerdLeakedLeases", { namespace: "keep" }),
      options,
    );
    const runbook = readFileSync(join(ROOT, "docs/runbook.md"), "utf8");
    const anchors = new Set([...runbook.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
    const severity = (name: string) => committedConfig.alerts[name]?.severity;

    // ContainerdOrphanedBytesHigh: per node, no namespace.
    expect(bytesHigh.labels).toEqual({
      alertname: "ContainerdOrphanedBytesHigh",
      severity: severity("ContainerdOrphanedBytesHigh"),
      job: JOB,
      instance,
    });
    expect(bytesHigh.annotations["summary"]).toBe("containerd holds a lot of disk space that nothing uses.");
    const description = bytesHigh.annotations["description"] ?? "";
    const held = new RegExp(
      `^containerd on ${instance.replace(/\./g, "\\.")} \\(job ${JOB}\\) has held (\\S+)B that a prune would free ` +
        `for more than ${ORPHAN_FOR} \\(threshold 1 KiB\\): `,
    ).exec(description);
    expect(held, description).not.toBeNull();
    // humanize1024 of the reclaimable bytes, e.g. "9.503Mi" + "B": compare with what Prometheus has now.
    const heldBytes = parseHumanize1024(held![1]!);
    expect(held![1]).toMatch(/^\d+(\.\d+)?(Ki|Mi|Gi)$/);
    const [reclaimable] = await prometheus!.vector(`sum(containerd_reclaimable_bytes{job="${JOB}"})`);
    const reclaimableNow = Number(reclaimable?.value[1]);
    expect(reclaimableNow).toBeGreaterThan(1 << 20);
    expect(Math.abs(heldBytes - reclaimableNow) / reclaimableNow).toBeLessThan(0.01);

    // ContainerdStaleLeases: one per namespace with a cut pull, never for "keep" (leaked) or "app".
    for (const [alert, ns] of [
      [staleDl, "dl"],
      [staleUnpack, "unpack"],
    ] as const) {
      expect(alert.labels).toEqual({ alertname: "ContainerdStaleLeases", severity: severity("ContainerdStaleLeases"), job: JOB, instance, namespace: ns });
      expect(alert.annotations["summary"]).toBe("containerd leases have outlived the client that created them.");
      expect(alert.annotations["description"]).toMatch(
        new RegExp(`^1 lease\\(s\\) in namespace ${ns} on ${instance.replace(/\./g, "\\.")} have been stale for more than ${ORPHAN_FOR}: `),
      );
    }
    const staleNamespaces = webhook!
      .alerts()
      .filter((a) => a.labels["alertname"] === "ContainerdStaleLeases")
      .map((a) => a.labels["namespace"]);
    expect(new Set(staleNamespaces)).toEqual(new Set(["dl", "unpack"]));

    // ContainerdLeakedLeases: the never-expiring lease nobody owns, and only that namespace.
    expect(leaked.labels).toEqual({ alertname: "ContainerdLeakedLeases", severity: severity("ContainerdLeakedLeases"), job: JOB, instance, namespace: "keep" });
    const leakedNamespaces = webhook!
      .alerts()
      .filter((a) => a.labels["alertname"] === "ContainerdLeakedLeases")
      .map((a) => a.labels["namespace"]);
    expect(new Set(leakedNamespaces)).toEqual(new Set(["keep"]));

    for (const alert of [bytesHigh, staleDl, staleUnpack, leaked]) {
      const name = alert.labels["alertname"]!;
      const url = alert.annotations["runbook_url"] ?? "";
      expect(url).toBe(`${committedConfig.runbookBase}#${name.toLowerCase()}`);
      expect(url).toMatch(/\/docs\/runbook\.md#/);
      expect(anchors.has(url.slice(url.indexOf("#") + 1)), `docs/runbook.md has no heading for ${url}`).toBe(true);
      expect(alert.generatorURL).toContain(prometheus!.address);
    }
  }, 60_000);

  it("answers every dashboard query with data (empty only where empty by design), without errors", async () => {
    const dashboard = loadDashboard();
    const queries = extractQueries(dashboard, variables());
    expect(queries.length).toBeGreaterThan(10);
    const results: Array<{ q: DashboardQuery; series: number }> = [];
    for (const q of queries) results.push({ q, series: await runQuery(q) });
    const empty = results.filter((r) => r.series === 0 && r.q.emptyWhen === undefined);
    expect(
      empty.map((r) => `${r.q.panel} (${r.q.refId}): ${r.q.expr}`),
      "dashboard queries that returned no series although they should have",
    ).toEqual([]);
    // In this state (stale leases, partial downloads, a leaked lease) even the
    // empty-by-design panels have data, except the last successful prune: there has been none.
    const emptyByDesign = results.filter((r) => r.q.emptyWhen !== undefined && r.series === 0).map((r) => r.q.panel);
    expect(emptyByDesign).toEqual(["Last successful prune"]);

    // A single namespace selected: its namespaced panels still answer.
    for (const q of extractQueries(dashboard, { ...variables(), namespace: "dl" })) await runQuery(q);
    const [partial] = await prometheus!.vector(
      extractQueries(dashboard, { ...variables(), namespace: "dl" }).find((q) => q.panel === "Partial download bytes by namespace")!.expr,
    );
    expect(partial?.metric["namespace"]).toBe("dl");
    expect(Number(partial?.value[1])).toBeGreaterThan(0);

    // The variables' label_values() queries, as Grafana runs them (/api/v1/series).
    for (const v of extractVariableQueries(dashboard, variables())) {
      const series = await prometheus!.api<Array<Record<string, string>>>("series", { "match[]": v.selector });
      const values = new Set(series.map((s) => s[v.label]));
      const expected = { job: [JOB], instance: [instance], namespace: ["app", "dl", "keep", "unpack"] }[v.name];
      expect(expected, `variable ${v.name}`).toBeDefined();
      for (const value of expected ?? []) expect(values, `variable ${v.name}: ${v.selector}`).toContain(value);
    }
  }, 30_000);

  it("resolves the alerts at the webhook once a prune through the admin API has freed the space", async () => {
    const response = await fetchPrune(`http://${instance}`, TOKEN, { leaseStaleAfter: "0s", ingestIdleAfter: "0s" }, {
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const report = JSON.parse(text) as PruneReport;
    expect(report.dryRun).toBe(false);
    expect(report.leases.deleted.map((l) => `${l.namespace}/${l.id}`).sort()).toEqual(
      [`dl/${scene!.download.leases[0]?.id}`, `unpack/${scene!.unpack.leases[0]?.id}`].sort(),
    );
    expect(report.bytes.reclaimed?.total).toBeGreaterThan(1 << 20);

    const options = { timeoutMs: 45_000, describe: diagnostics };
    const bytesHigh = await webhook!.waitForAlert("ContainerdOrphanedBytesHigh resolved at the webhook", resolved("ContainerdOrphanedBytesHigh"), options);
    const staleDl = await webhook!.waitForAlert(
      'ContainerdStaleLeases{namespace="dl"} resolved at the webhook',
      resolved("ContainerdStaleLeases", { namespace: "dl" }),
      options,
    );
    const staleUnpack = await webhook!.waitForAlert(
      'ContainerdStaleLeases{namespace="unpack"} resolved at the webhook',
      resolved("ContainerdStaleLeases", { namespace: "unpack" }),
      options,
    );
    for (const alert of [bytesHigh, staleDl, staleUnpack]) {
      expect(alert.labels["job"]).toBe(JOB);
      expect(alert.labels["instance"]).toBe(instance);
      expect(Date.parse(alert.endsAt)).toBeGreaterThan(Date.parse(alert.startsAt));
    }
    // The notification carrying each resolution says "resolved" as a whole, too.
    const notifications = webhook!.received.map((r) => r.notification);
    for (const alert of [bytesHigh, staleDl, staleUnpack]) {
      const carrying = notifications.find((n) => n.alerts.some((a) => a.status === "resolved" && a.fingerprint === alert.fingerprint));
      expect(carrying?.status).toBe("resolved");
      expect(carrying?.receiver).toBe("webhook");
      expect(carrying?.version).toBe("4");
      expect(carrying?.externalURL).toContain(alertmanager!.address);
    }
    const [reclaimable] = await prometheus!.vector(`sum(containerd_reclaimable_bytes{job="${JOB}"})`);
    expect(Number(reclaimable?.value[1])).toBeLessThanOrEqual(THRESHOLD_BYTES);
  }, 60_000);

  it("fills the empty-by-design prune panels after the prune, and knows every metric the dashboard names", async () => {
    const dashboard = loadDashboard();
    const byPanel = (panel: string, refId = "A") => {
      const q = extractQueries(dashboard, variables()).find((x) => x.panel === panel && x.refId === refId);
      if (!q) throw new Error(`no panel "${panel}" (${refId}) in the dashboard`);
      return q;
    };
    const lastPrune = await waitFor(
      'the "Last successful prune" panel to have data',
      async () => (await prometheus!.vector(byPanel("Last successful prune").expr))[0],
      { timeoutMs: 15_000, intervalMs: 250, describe: diagnostics },
    );
    // Milliseconds since the epoch (the panel's unit is dateTimeFromNow), within the last minute.
    expect(Number(lastPrune.value[1])).toBeGreaterThan(Date.now() - 60_000);
    expect(Number(lastPrune.value[1])).toBeLessThanOrEqual(Date.now() + 1_000);

    for (const [panel, refId] of [
      ["Bytes reclaimed by prune", "A"],
      ["Leases deleted and downloads aborted by prune", "A"],
      ["Leases deleted and downloads aborted by prune", "B"],
    ] as const) {
      await waitFor(
        `"${panel}" (${refId}) to show the prune`,
        async () => Number((await prometheus!.vector(byPanel(panel, refId).expr))[0]?.value[1]) > 0,
        { timeoutMs: 15_000, intervalMs: 250, describe: diagnostics },
      );
    }
    const runs = await prometheus!.vector(byPanel("Prune runs by result").expr);
    expect(Number(runs.find((s) => s.metric["result"] === "success")?.value[1])).toBeGreaterThan(0);

    // With the stale leases gone, "Oldest stale lease age" is empty again, as designed.
    await waitFor(
      '"Oldest stale lease age" to be empty after the prune',
      async () => (await prometheus!.vector(byPanel("Oldest stale lease age").expr)).length === 0,
      { timeoutMs: 15_000, intervalMs: 250, describe: diagnostics },
    );

    // Every metric name in the dashboard exists in Prometheus (a typo would fail here).
    const known = new Set(await prometheus!.metricNames());
    const used = new Set(extractQueries(dashboard, variables()).flatMap((q) => selectors(q.expr).map((s) => s.metric)));
    for (const v of extractVariableQueries(dashboard, variables())) for (const s of selectors(v.selector)) used.add(s.metric);
    used.delete("");
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((name) => !known.has(name)).sort(), "dashboard metric names Prometheus never stored").toEqual([]);
    // The same for the alert rules.
    const ruleMetrics = new Set(testRules.flatMap((r) => selectors(r.expr).map((s) => s.metric)));
    ruleMetrics.delete("");
    expect([...ruleMetrics].filter((name) => !known.has(name)).sort(), "rule metric names Prometheus never stored").toEqual([]);
  }, 60_000);

  it("fired no exporter-health alert during the whole run", async () => {
    const health = webhook!.alerts().filter((a) => HEALTH_ALERTS.includes(a.labels["alertname"] ?? ""));
    expect(health.map((a) => `${a.status} ${JSON.stringify(a.labels)}`), await diagnostics()).toEqual([]);
    // Nor did one fire inside Prometheus (whether or not it reached Alertmanager yet).
    const fired = await prometheus!.vector(
      `max_over_time(ALERTS{alertstate="firing",alertname=~"${HEALTH_ALERTS.join("|")}"}[10m])`,
    );
    expect(fired.map((s) => JSON.stringify(s.metric))).toEqual([]);
    const rules = await prometheus!.api<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }>(
      "rules",
      { type: "alert" },
    );
    const unhealthy = rules.groups.flatMap((g) => g.rules).filter((r) => r.health !== "ok");
    expect(unhealthy.map((r) => `${r.name}: ${r.health} ${r.lastError ?? ""}`)).toEqual([]);
  });
});
