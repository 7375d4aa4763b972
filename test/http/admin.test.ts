import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app.js";

// containerd is deliberately absent: none of these requests may get as far as asking it.
const NO_CONTAINERD = "--containerd.address=/nonexistent/containerd.sock";
const TOKEN = "correct-horse-battery-staple";

describe("admin routes without a token configured", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp([NO_CONTAINERD]);
  });
  afterAll(() => t.close());

  it("answers 403 and says how to enable them", async () => {
    const res = await t.app.inject({ method: "POST", url: "/admin/prune", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatch(/--admin.token-file/);
  });
});

describe("admin routes with a token", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp([NO_CONTAINERD, "--prune.confirm-window=0s"], { ADMIN_TOKEN: TOKEN });
  });
  afterAll(() => t.close());

  const post = (headers: Record<string, string>, payload?: unknown, url = "/admin/prune") =>
    t.app.inject({
      method: "POST",
      url,
      headers: { ...headers, ...(payload === undefined ? {} : { "content-type": "application/json" }) },
      ...(payload === undefined ? {} : { payload: typeof payload === "string" ? payload : JSON.stringify(payload) }),
    });
  const auth = { authorization: `Bearer ${TOKEN}` };

  it.each([
    ["no header", {}],
    ["the wrong scheme", { authorization: `Basic ${TOKEN}` }],
    ["a wrong token", { authorization: `Bearer ${TOKEN.replace("c", "C")}` }],
    ["a token of another length", { authorization: "Bearer short" }],
    ["an oversized header", { authorization: `Bearer ${"x".repeat(8000)}` }],
  ])("refuses %s with 401 and a WWW-Authenticate challenge", async (_name, headers) => {
    const res = await post(headers, {});
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer realm=/);
    expect(res.json().error).toMatch(/unauthorized/);
  });

  it.each([
    ["malformed JSON", "{not json", /JSON/i],
    ["an unknown field", { dryRun: true, everything: true }, /unknown field "everything"/],
    ["a wrong type", { dryRun: "yes" }, /dryRun/],
    ["a negative duration", { leaseStaleAfter: "-5m" }, /leaseStaleAfter/],
    ["an unparseable duration", { ingestIdleAfter: "soon" }, /ingestIdleAfter/],
    ["a namespace containerd would reject", { namespaces: ["bad/ns"] }, /namespaces/],
    ["a lease id containerd would reject", { leases: ["-x-"] }, /leases/],
  ])("refuses %s with 400 naming the field", async (_name, body, message) => {
    const res = await post(auth, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(message);
  });

  // Bodies a person reads as safe (a dry run, a narrow prune) that the defaults would turn into a
  // real prune of everything: each refused before containerd is asked anything.
  it.each([
    ["a query string and a body that disagree", "/admin/prune?dryRun=true", '{"dryRun":false}', /query string says true and the body says false/],
    ["a repeated key", "/admin/prune", '{"dryRun":true,"dryRun":false}', /body\.dryRun: the key appears more than once/],
    ["a repeated key spelt with an escape", "/admin/prune", '{"dryRun":true,"dry\\u0052un":false}', /body\.dryRun: the key appears more than once/],
    ["a repeated nested key", "/admin/prune", '{"namespaces":["a"],"leases":["b"],"leases":["c"]}', /body\.leases: the key appears more than once/],
    ["null", "/admin/prune", "null", /must be a JSON object .* not null/],
    ["an array", "/admin/prune", "[]", /must be a JSON object .* not an array/],
    ["an empty body with a JSON content-type", "/admin/prune", "", /body is empty/],
    ["an empty namespace list", "/admin/prune", '{"namespaces":[]}', /namespaces: an empty list is ambiguous/],
    ["an empty lease list", "/admin/prune", '{"leases":[]}', /leases: an empty list is ambiguous/],
  ])("refuses %s with 400 naming the problem", async (_name, url, payload, message) => {
    const res = await t.app.inject({ method: "POST", url, headers: { ...auth, "content-type": "application/json" }, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(message);
  });

  it("accepts a query string and a body that agree", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/admin/prune?dryRun=true",
      headers: { ...auth, "content-type": "application/json" },
      payload: '{"dryRun":true}',
    });
    expect(res.statusCode).toBe(502); // validated and run: only containerd is missing
  });

  it("refuses a body over the limit with 413", async () => {
    const res = await post(auth, { leases: Array.from({ length: 2000 }, (_, i) => `lease-${i}-${"x".repeat(10)}`) });
    expect(res.statusCode).toBe(413);
  });

  it("refuses other methods with 405 and an Allow header", async () => {
    const res = await t.app.inject({ method: "GET", url: "/admin/prune", headers: auth });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe("POST");
  });

  it("takes a POST without a body as all defaults", async () => {
    const res = await t.app.inject({ method: "POST", url: "/admin/prune?dryRun=true", headers: auth });
    expect(res.statusCode).toBe(502); // validated and run: only containerd is missing
    expect(res.json().error).toMatch(/containerd did not answer/);
  });

  it("refuses a query parameter it does not know", async () => {
    const res = await t.app.inject({ method: "POST", url: "/admin/prune?dryRun=maybe", headers: auth });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/dryRun/);
  });

  it("reports a prune that cannot reach containerd as a failure, not a crash", async () => {
    const res = await post(auth, { dryRun: true });
    expect(res.statusCode).toBe(502);
    expect(res.json().error).toMatch(/containerd did not answer/);
  });

  it("never writes the token to the log", () => {
    expect(t.logs()).not.toContain(TOKEN);
    expect(t.logs()).toContain("admin request refused");
  });
});
