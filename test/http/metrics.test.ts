import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { Flags, parseArgs } from "../../src/config/flags.js";
import { scrapeBudgetMs, wantsOpenMetrics } from "../../src/http/routes/metrics.js";
import { parseExposition, sample, select } from "../support/exposition.js";
import { startTestApp, type TestApp } from "../support/app.js";

const config = loadConfig(new Flags(parseArgs(["--scrape.timeout=8s"], {})), {});

describe("scrape budget", () => {
  it("takes Prometheus' timeout less the offset", () => {
    expect(scrapeBudgetMs("10", config)).toBe(9500);
    expect(scrapeBudgetMs("2.5", config)).toBe(2000);
  });

  it.each([undefined, "", "abc", "-3", "0", "Infinity", "NaN"])("falls back to the default for %j", (header) => {
    expect(scrapeBudgetMs(header, config)).toBe(8000);
  });

  it("negotiates OpenMetrics only when asked", () => {
    expect(wantsOpenMetrics("application/openmetrics-text;version=1.0.0,text/plain;q=0.5")).toBe(true);
    expect(wantsOpenMetrics("text/plain")).toBe(false);
    expect(wantsOpenMetrics(undefined)).toBe(false);
  });
});

describe("/metrics while containerd is not running", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(["--containerd.address=/nonexistent/containerd.sock"]);
  });
  afterAll(() => t.close());

  it("answers 200 with containerd_up 0 and every collector failed", async () => {
    const res = await t.app.inject({ url: "/metrics" });
    expect(res.statusCode).toBe(200);
    const samples = parseExposition(res.body);
    expect(sample(samples, "containerd_up")).toBe(0);
    expect(sample(samples, "containerd_scrape_collector_success", { collector: "leases" })).toBe(0);
    expect(select(samples, "containerd_exporter_build_info")).toHaveLength(1);
    expect(select(samples, "containerd_info")).toHaveLength(0);
    expect(select(samples, "containerd_reclaimable_bytes")).toHaveLength(0);
  });

  it("logs the outage once, with the socket path, not once per scrape", async () => {
    for (let i = 0; i < 3; i++) await t.app.inject({ url: "/metrics" });
    const lines = t.logs().split("\n").filter((l) => l.includes("containerd is unreachable"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("/nonexistent/containerd.sock");
    // The reason is said once, in the message, not again in an err field.
    expect(lines[0]?.split("/nonexistent/containerd.sock")).toHaveLength(2);
  });

  it.each([
    ["an odd Accept header", { accept: "application/x-nonsense" }],
    ["a nonsense scrape-timeout header", { "x-prometheus-scrape-timeout-seconds": "banana" }],
    ["OpenMetrics", { accept: "application/openmetrics-text; version=1.0.0" }],
  ])("still answers with %s", async (_name, headers) => {
    const res = await t.app.inject({ url: "/metrics", headers });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain("containerd_up 0");
  });

  it("serves the status page with security headers, a link to /metrics and the outage panel", async () => {
    const res = await t.app.inject({ url: "/" });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('href="/metrics"');
    expect(res.body).toContain("containerd did not answer");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["content-security-policy"]).toContain("default-src 'self'");
  });

  it("answers /healthz without containerd", async () => {
    const res = await t.app.inject({ url: "/healthz" });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe("ok\n");
  });
});
