import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import Fastify from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LIMITS, limitConnections } from "../../src/http/connection-limits.js";
import { FakeContainerd } from "../support/fake-containerd.js";
import type { TestApp } from "../support/app.js";
import { selfSignedCert } from "../support/tls.js";
import { appFor, sampleNamespace } from "../faults/support.js";

// Clients that pipeline a thousand scrapes in one write and never read the answers: each
// connection is closed once it has more than LIMITS.pendingPerConnection answers waiting, what
// follows in the batch is never parsed, the
// scrapes that were accepted share one rendered body, and other clients are served meanwhile.
let fake: FakeContainerd;
let t: TestApp;
let port: number;

beforeAll(async () => {
  const namespaces = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`ns-${i}`, sampleNamespace(`ns${i}`)]));
  fake = await FakeContainerd.start({ data: { namespaces } });
  t = await appFor(fake);
  await t.app.listen({ host: "127.0.0.1", port: 0 });
  port = (t.app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await t.close();
  await fake.dispose();
});

/** A connection that writes `count` GET requests at once and does not read until told to. */
function pipeline(count: number, path = "/metrics"): { socket: Socket; closed: Promise<void>; answers: () => number } {
  const socket = connect(port, "127.0.0.1");
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  let received = "";
  socket.on("error", () => undefined);
  socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
  socket.pause();
  socket.once("connect", () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(count)));
  return { socket, closed, answers: () => (received.match(/HTTP\/1\.1 200 OK/g) ?? []).length };
}

describe("pipelined scrapes from clients that never read", () => {
  it("closes each such connection, renders once per read, and keeps serving others", async () => {
    fake.reset();
    fake.setDelay("Leases/List", 100);
    const render = vi.spyOn(t.runtime.metrics, "render");
    // Every request Node parsed: the rest of each batch must stay unparsed, not parsed and dropped.
    let parsed = 0;
    const countParsed = (req: { url?: string }) => void (req.url === "/metrics" && parsed++);
    t.app.server.prependListener("request", countParsed);
    const clients = Array.from({ length: 8 }, () => pipeline(1000));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const healthz = await fetch(`http://127.0.0.1:${port}/healthz`);
    // Reading now: a closed connection shows its end once the answers before it are read.
    for (const c of clients) c.socket.resume();
    const closedInTime = await Promise.race([
      Promise.all(clients.map((c) => c.closed)).then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 15_000)),
    ]);
    for (const c of clients) c.socket.destroy();
    t.app.server.off("request", countParsed);

    expect(parsed).toBeLessThanOrEqual(clients.length * LIMITS.pendingPerConnection);
    expect(closedInTime).toBe(true);
    for (const c of clients) expect(c.answers()).toBeLessThanOrEqual(LIMITS.pendingPerConnection);
    expect(healthz.status).toBe(200);
    expect(t.logs()).toContain("pipelined without reading");
    // 8 × (LIMITS.pendingPerConnection + 1) scrapes at most got as far as the route; they joined
    // at most a couple of reads, each rendered once.
    expect(render.mock.calls.length).toBeLessThanOrEqual(4);
    expect(fake.count("Namespaces/List")).toBeLessThanOrEqual(4);
    render.mockRestore();
  }, 30_000);

  it("serves a client that pipelines within the limit and reads its answers", async () => {
    const socket = connect(port, "127.0.0.1");
    const count = LIMITS.pendingPerConnection;
    let received = "";
    const done = new Promise<void>((resolve) =>
      socket.on("data", (chunk: Buffer) => {
        received += chunk.toString();
        if ((received.match(/HTTP\/1\.1 200 OK/g) ?? []).length === count) resolve();
      }),
    );
    socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(count));
    await done;
    socket.destroy();
    expect((received.match(/\r\n\r\nok\n/g) ?? []).length).toBe(count);
  });
});

describe("a long keep-alive connection", () => {
  it("gets Connection: close on its 1,000th answer, so that the client opens a new one", async () => {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => undefined);
    let received = "";
    let answers = 0;
    const ask = () => socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const told = new Promise<void>((resolve) =>
      socket.on("data", (chunk: Buffer) => {
        received += chunk.toString("latin1");
        // One request at a time, the next once the answer before it is complete.
        const complete = (received.match(/\r\n\r\nok\n/g) ?? []).length;
        if (complete === answers) return;
        answers = complete;
        if (/\r\nconnection: close\r\n/i.test(received)) resolve();
        else ask();
      }),
    );
    socket.once("connect", ask);
    await told;
    socket.destroy();
    expect(answers).toBe(LIMITS.requestsPerConnection);
    const heads = received.split("HTTP/1.1 ").slice(1);
    expect(heads).toHaveLength(LIMITS.requestsPerConnection);
    expect(heads.at(-2)).toMatch(/\r\nconnection: keep-alive\r\n/i);
  }, 30_000);
});

describe("pipelining over TLS", () => {
  it("leaves the rest of the batch unparsed there too", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pipelining-tls-"));
    const files = selfSignedCert(dir, "server");
    const app = Fastify({ https: { key: readFileSync(files.key), cert: readFileSync(files.cert) } });
    rmSync(dir, { recursive: true, force: true });
    limitConnections(app, pino({ level: "silent" }));
    // Answers that take their time, so that the batch's requests stay pending.
    app.get("/slow", () => new Promise((resolve) => setTimeout(() => resolve("late"), 2000)));
    await app.listen({ host: "127.0.0.1", port: 0 });
    let parsed = 0;
    app.server.prependListener("request", () => void parsed++);
    try {
      const socket = tlsConnect({ host: "127.0.0.1", port: (app.server.address() as AddressInfo).port, rejectUnauthorized: false });
      socket.on("error", () => undefined);
      socket.once("secureConnect", () => socket.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n".repeat(1000)));
      await new Promise((resolve) => socket.once("close", resolve));
      expect(parsed).toBe(LIMITS.pendingPerConnection);
    } finally {
      await app.close();
    }
  });
});
