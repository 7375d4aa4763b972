import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeContainerd } from "../support/fake-containerd.js";
import type { TestApp } from "../support/app.js";
import { appFor, collectorSuccess, leasesOf, SAMPLE_LEASES, sampleNamespace, scrape, sleep, up } from "./support.js";

describe("containerd going away and coming back", () => {
  let fake: FakeContainerd;
  let t: TestApp;
  const data = { namespaces: { default: sampleNamespace("default") } };

  beforeAll(async () => {
    fake = await FakeContainerd.start({ data });
    t = await appFor(fake);
  });
  afterAll(async () => {
    await t.close();
    await fake.dispose();
  });

  it("reports containerd_up 0 while it is gone and 1 within ~2s of its return, on the same app and channel", async () => {
    expect(up((await scrape(t, 5)).samples)).toBe(1);
    const socketPath = fake.socketPath;

    await fake.stop(); // connections dropped, socket removed
    const down = await scrape(t, 5);
    expect(down.status).toBe(200);
    expect(up(down.samples)).toBe(0);
    expect(down.elapsedMs).toBeLessThan(4500);
    expect(collectorSuccess(down.samples).leases).toBe(0);
    expect(t.logs()).toMatch(/containerd is unreachable: no containerd socket at .*containerd.sock/);

    // Let the channel's reconnect backoff grow, as during a real outage.
    for (let i = 0; i < 3; i++) {
      await sleep(300);
      expect(up((await scrape(t, 5)).samples)).toBe(0);
    }

    const replacement = await FakeContainerd.start({ socketPath, data });
    const restartedAt = performance.now();
    try {
      let samples = (await scrape(t, 5)).samples;
      while (up(samples) !== 1 && performance.now() - restartedAt < 5000) {
        await sleep(100);
        samples = (await scrape(t, 5)).samples;
      }
      const recoveredMs = performance.now() - restartedAt;
      expect(up(samples)).toBe(1);
      // grpc.max_reconnect_backoff_ms is 1000: the first scrape after the backoff gets through.
      expect(recoveredMs).toBeLessThan(2500);
      expect(leasesOf(samples, "default")).toEqual(SAMPLE_LEASES);
      expect(replacement.count("Namespaces/List")).toBeGreaterThan(0);
      expect(t.logs()).toContain("containerd is reachable");
    } finally {
      // The replacement listens in the first fake's temp dir and owns none: afterAll's
      // fake.dispose() removes that dir (stopping twice is harmless).
      await replacement.stop();
    }
  });
});
