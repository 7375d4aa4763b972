import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { selectors } from "../dashboards/queries.js";

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const RULES = join(ROOT, "alerts/containerd-orphans.rules.yml");
const TESTS_DIR = join(ROOT, "alerts/tests");
const RUNBOOK = join(ROOT, "docs/runbook.md");
const RUNBOOK_URL = "https://github.com/containerd-orphan-exporter/containerd-orphan-exporter/blob/main/docs/runbook.md";

/** Alerts the brief requires; more are allowed. */
const REQUIRED = [
  "ContainerdOrphanedBytesHigh",
  "ContainerdStaleLeases",
  "ContainerdExpiredLeasesNotCollected",
  "ContainerdUnreferencedDataPersisting",
  "ContainerdExporterDown",
  "ContainerdUnreachable",
  "ContainerdScrapeCollectorFailing",
  "ContainerdPruneFailing",
];

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: Array<{ name: string; rules: Array<AlertRule | { record: string; expr: string }> }>;
}
interface AlertsConfig {
  runbookBase: string;
  jobRegex: string;
  alerts: Record<string, { severity: string; for: string; [knob: string]: unknown }>;
}
interface PromtoolTestFile {
  rule_files: string[];
  tests: Array<{
    name?: string;
    alert_rule_test?: Array<{ eval_time: string; alertname: string; exp_alerts?: unknown[] }>;
  }>;
}

const alerts: AlertRule[] = (YAML.parse(readFileSync(RULES, "utf8")) as RuleFile).groups.flatMap((g) =>
  g.rules.filter((r): r is AlertRule => "alert" in r),
);
const config = YAML.parse(readFileSync(join(ROOT, "alerts/config.yml"), "utf8")) as AlertsConfig;
const testFiles = readdirSync(TESTS_DIR)
  .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
  .sort()
  .map((f) => join(TESTS_DIR, f));

/** promtool, failing the test with everything promtool printed. */
async function promtool(args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run("promtool", args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    return stdout + stderr;
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string; message: string };
    throw new Error(`promtool ${args.join(" ")} failed (${String(e.code ?? e.message)}):\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}

/** Anchors GitHub generates for the headings of a Markdown file. */
function githubAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const slug = m[1]!
      .replace(/`/g, "")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

describe("alerts/containerd-orphans.rules.yml", () => {
  it("is exactly what alerts/build.mjs renders from alerts/config.yml", async () => {
    const { stdout } = await run(process.execPath, [join(ROOT, "alerts/build.mjs"), "--stdout"]);
    expect(
      readFileSync(RULES, "utf8") === stdout,
      "alerts/containerd-orphans.rules.yml is out of date: run `node alerts/build.mjs`",
    ).toBe(true);
  });

  it("passes promtool check rules", async () => {
    const out = await promtool(["check", "rules", "alerts/containerd-orphans.rules.yml"]);
    expect(out).toContain(`SUCCESS: ${alerts.length} rules found`);
  });

  it("passes its promtool unit tests (alerts/tests/*.yml)", async () => {
    expect(testFiles.length).toBeGreaterThan(0);
    const out = await promtool(["test", "rules", ...testFiles.map((f) => f.slice(ROOT.length + 1))]);
    expect(out).not.toContain("FAILED");
  });

  it("has every required alert, with CamelCase names starting Containerd", () => {
    const names = alerts.map((a) => a.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const name of REQUIRED) expect(names).toContain(name);
    for (const name of names) expect(name).toMatch(/^Containerd(?:[A-Z][a-z0-9]*)+$/);
  });

  it("gives every alert a severity, a summary, a templated description and a runbook_url", () => {
    for (const a of alerts) {
      expect(["critical", "warning", "info"], a.alert).toContain(a.labels?.severity);
      expect(a.annotations?.summary?.trim(), `${a.alert}: summary`).toBeTruthy();
      expect(a.annotations?.description, `${a.alert}: description`).toMatch(/\{\{.*\$(labels|value).*\}\}/);
      expect(a.annotations?.runbook_url, `${a.alert}: runbook_url`).toMatch(new RegExp(`^${RUNBOOK_URL.replace(/[.]/g, "\\.")}#[a-z0-9-]+$`));
      // Byte values are shown with humanize1024 (…GiB), never raw.
      if (/_bytes\b/.test(a.expr) && /\$value/.test(a.annotations?.description ?? "")) {
        expect(a.annotations?.description, `${a.alert}: bytes via humanize1024`).toMatch(/\$value \| humanize1024/);
      }
    }
  });

  it("links every alert to an existing section of docs/runbook.md", () => {
    const anchors = githubAnchors(readFileSync(RUNBOOK, "utf8"));
    for (const a of alerts) {
      const anchor = a.annotations?.runbook_url?.split("#")[1] ?? "";
      expect(anchors, `${a.alert}: #${anchor} in docs/runbook.md`).toContain(anchor);
      expect(anchor).toBe(a.alert.toLowerCase());
    }
  });

  it("selects the exporter's job in every expression and follows alerts/config.yml", () => {
    for (const a of alerts) {
      const knobs = config.alerts[a.alert];
      expect(knobs, `${a.alert} in alerts/config.yml`).toBeDefined();
      expect(a.labels?.severity).toBe(knobs?.severity);
      expect(a.for ?? "0m", a.alert).toBe(knobs?.for);
      expect(a.expr, a.alert).toContain(`job=~${JSON.stringify(config.jobRegex)}`);
      // Every series selector carries the job matcher.
      const found = selectors(a.expr);
      expect(found.length, a.alert).toBeGreaterThan(0);
      for (const s of found) {
        expect(s.matchers, `${a.alert}: ${s.metric}`).toContain(`job=~${JSON.stringify(config.jobRegex)}`);
      }
    }
    expect(alerts.find((a) => a.alert === "ContainerdOrphanedBytesHigh")?.expr).toMatch(
      new RegExp(
        `^sum by \\(job, instance\\) \\(last_over_time\\(containerd_reclaimable_bytes\\{[^}]*\\}\\[${String(config.alerts.ContainerdOrphanedBytesHigh?.holdDuringOutage)}\\]\\)\\) > ${String(config.alerts.ContainerdOrphanedBytesHigh?.thresholdBytes)}$`,
      ),
    );
  });

  it("has promtool tests that see every alert both fire and stay silent", () => {
    const cases = testFiles.flatMap((file) => {
      const parsed = YAML.parse(readFileSync(file, "utf8"), { merge: true }) as PromtoolTestFile;
      expect(parsed.rule_files, file).toContain("../containerd-orphans.rules.yml");
      return parsed.tests.flatMap((t) => t.alert_rule_test ?? []);
    });
    for (const a of alerts) {
      const mine = cases.filter((c) => c.alertname === a.alert);
      expect(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${a.alert} fires in a test`).toBe(true);
      expect(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${a.alert} stays silent in a test`).toBe(true);
    }
  });
});
