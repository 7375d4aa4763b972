import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app.js";

const TOKEN = "correct-horse-battery-staple";

// Regression: @fastify/rate-limit appends its hook after a route's own onRequest
// hooks, so a refused token (401) never reached it and guessing was unlimited.
describe("the admin routes' rate limit", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(["--containerd.address=/nonexistent/containerd.sock"], { ADMIN_TOKEN: TOKEN });
  });
  afterAll(() => t.close());

  const post = (token: string) =>
    t.app.inject({
      method: "POST",
      url: "/admin/prune",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      payload: JSON.stringify({ dryRun: true }),
    });

  it("counts refused tokens: 30 guesses a minute, then 429 for everyone from that address", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await post(`guess-${i}`)).statusCode);
    expect(statuses).toEqual(Array(30).fill(401));
    const limited = await post("guess-31");
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect(limited.json().error).toMatch(/rate limit/i);
    // The right token does not get past the limit either: no guessing until the window ends.
    expect((await post(TOKEN)).statusCode).toBe(429);
  });

  it("leaves the metrics alone", async () => {
    expect((await t.app.inject({ url: "/metrics" })).statusCode).toBe(200);
  });
});
