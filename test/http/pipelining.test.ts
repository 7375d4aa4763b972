import { connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LIMITS } from "../../src/http/connection-limits.js";
import { FakeContainerd } from "../support/fake-containerd.js";
import type { TestApp } from "../support/app.js";
import { appFor, sampleNamespace } from "../faults/support.js";

// Clients that pipeline a thousand scrapes in one write and never read the answers: each
// connection is closed once it has more than LIMITS.pendingPerConnection answers waiting, the
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
