import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MAX_CONCURRENT_READS } from "../../src/inventory/source.js";
import { FakeContainerd } from "../support/fake-containerd.js";
import type { TestApp } from "../support/app.js";
import { parseExposition, sample } from "../support/exposition.js";
import { appFor, leasesOf, SAMPLE_LEASES, sampleNamespace } from "./support.js";

const TOKEN = "correct-horse-battery-staple";

let fake: FakeContainerd;
beforeAll(async () => {
  const namespaces = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`ns-${i}`, sampleNamespace(`ns${i}`)]));
  fake = await FakeContainerd.start({ data: { namespaces } });
});
afterAll(() => fake.dispose());

describe("coalescing", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await appFor(fake);
  });
  afterAll(() => t.close());

  it("answers 10 concurrent scrapes with one read of containerd", async () => {
    fake.reset();
    fake.setDelay("Namespaces/List", 200); // all ten arrive while the first read is in flight
    const answers = await Promise.all(Array.from({ length: 10 }, () => t.app.inject({ url: "/metrics" })));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(10).fill(200));
    expect(fake.count("Namespaces/List")).toBe(1);
    expect(fake.count("Leases/List")).toBe(5); // one per namespace, not ten
    for (const answer of answers) expect(leasesOf(parseExposition(answer.body), "ns-3")).toEqual(SAMPLE_LEASES);
  });

  it("renders one body for scrapes that shared a read", async () => {
    fake.reset();
    fake.setDelay("Namespaces/List", 200);
    const render = vi.spyOn(t.runtime.metrics, "render");
    const answers = await Promise.all(Array.from({ length: 10 }, () => t.app.inject({ url: "/metrics" })));
    expect(render.mock.calls.length).toBe(1);
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    render.mockRestore();
  });

  it("caps reads of containerd at two, whatever scrape timeouts the scrapers send", async () => {
    fake.reset();
    fake.setDelay("Leases/List", 100);
    // Each scrape's budget a little shorter than the one before: none can join an earlier read.
    const scrapes: Promise<{ statusCode: number }>[] = [];
    for (let i = 0; i < 300; i++) {
      scrapes.push(t.app.inject({ url: "/metrics", headers: { "x-prometheus-scrape-timeout-seconds": String(10 - i * 0.01) } }));
      if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const normal = t.app.inject({ url: "/metrics" });
    const answers = await Promise.all(scrapes);
    expect(answers.every((a) => a.statusCode === 200)).toBe(true);
    expect((await normal).statusCode).toBe(200);
    expect(fake.maxInFlight.get("Namespaces/List") ?? 0).toBeLessThanOrEqual(MAX_CONCURRENT_READS);
    expect(fake.maxInFlight.get("Leases/List") ?? 0).toBeLessThanOrEqual(MAX_CONCURRENT_READS * 5); // 5 namespaces a read
    expect(fake.count("Namespaces/List")).toBeLessThan(60);
  }, 60_000);

  it("reads again for the next scrape: no caching of values that change", async () => {
    fake.reset();
    await t.app.inject({ url: "/metrics" });
    await t.app.inject({ url: "/metrics" });
    expect(fake.count("Namespaces/List")).toBe(2);
  });
});

describe("a burst of scrapes and bad admin requests", () => {
  let t: TestApp;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(async () => {
    process.on("unhandledRejection", onUnhandled);
    t = await appFor(fake, [], { ADMIN_TOKEN: TOKEN });
  });
  afterAll(async () => {
    process.off("unhandledRejection", onUnhandled);
    await t.close();
  });

  it("answers 200 scrapes and 50 wrong-token prunes, without leaking memory or rejections", async () => {
    fake.reset();
    fake.setDelay("Leases/ListResources", 5);
    const heapBefore = process.memoryUsage().heapUsed;
    const scrapes = Array.from({ length: 200 }, (_, i) =>
      t.app.inject({ url: "/metrics", headers: i % 2 ? { accept: "application/openmetrics-text; version=1.0.0" } : {} }),
    );
    const prunes = Array.from({ length: 50 }, (_, i) =>
      t.app.inject({
        method: "POST",
        url: "/admin/prune",
        headers: { authorization: `Bearer ${TOKEN.slice(0, i % TOKEN.length)}wrong`, "content-type": "application/json" },
        payload: JSON.stringify({ dryRun: false }),
      }),
    );
    const [scraped, pruned] = await Promise.all([Promise.all(scrapes), Promise.all(prunes)]);

    expect(scraped.every((r) => r.statusCode === 200)).toBe(true);
    for (const r of scraped) expect(r.body).toMatch(/^containerd_up 1$/m);
    const statuses = pruned.map((r) => r.statusCode);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(30); // 30 per minute, then 429
    expect(statuses).toContain(429);
    expect(fake.count("Leases/Delete") + fake.count("Content/Abort")).toBe(0); // nothing deleted
    // Coalesced: far fewer reads than scrapes.
    expect(fake.count("Namespaces/List")).toBeLessThan(200);

    await new Promise((resolve) => setTimeout(resolve, 50));
    const growth = process.memoryUsage().heapUsed - heapBefore;
    expect(growth).toBeLessThan(200 * 1024 * 1024);
    expect(unhandled).toEqual([]);
    // Still serving normally afterwards.
    const after = await t.app.inject({ url: "/metrics" });
    expect(sample(parseExposition(after.body), "containerd_up")).toBe(1);
  }, 60_000);
});
