// The clients of the load run: each one a kind of traffic the exporter must survive, each
// bounded in connections and in time, all on loopback.
import { connect, type Socket } from "node:net";

export interface Target {
  host: "127.0.0.1";
  port: number;
}

export interface AttackStats {
  requests: number;
  answers: number;
  errors: number;
  closedByServer: number;
}

const newStats = (): AttackStats => ({ requests: 0, answers: 0, errors: 0, closedByServer: 0 });

/** Keeps `open` connections alive while `running()`; each is replaced when it closes. */
function keepOpen(open: number, running: () => boolean, start: (done: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    let live = 0;
    const launch = () => {
      if (!running()) {
        if (live === 0) resolve();
        return;
      }
      live++;
      start(() => {
        live--;
        setTimeout(launch, 20); // reconnecting is bounded too
      });
    };
    for (let i = 0; i < open; i++) launch();
  });
}

const get = (path: string, headers: Record<string, string> = {}) =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;

function socketTo(target: Target, stats: AttackStats, done: () => void): Socket {
  const socket = connect(target.port, target.host);
  socket.on("error", () => stats.errors++);
  socket.once("close", () => {
    stats.closedByServer++;
    done();
  });
  return socket;
}

/** `connections` keep-alive scrapers, one request at a time each, reading every answer (Prometheus-like, but without pause). */
export function scrapers(target: Target, connections: number, running: () => boolean): { stats: AttackStats; done: Promise<void> } {
  const stats = newStats();
  const done = keepOpen(connections, running, (finished) => {
    const socket = socketTo(target, stats, finished);
    let buffered = "";
    const send = () => {
      if (!running()) return socket.destroy();
      stats.requests++;
      socket.write(get("/metrics"));
    };
    socket.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("latin1");
      // One answer at a time: the body ends where Content-Length says.
      for (;;) {
        const head = buffered.indexOf("\r\n\r\n");
        if (head === -1) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, head))?.[1] ?? 0);
        if (buffered.length < head + 4 + length) return;
        buffered = buffered.slice(head + 4 + length);
        stats.answers++;
        send();
      }
    });
    socket.once("connect", send);
  });
  return { stats, done };
}

/** Connections that each write `perConnection` pipelined scrapes in one write and never read. */
export function pipeliners(target: Target, connections: number, perConnection: number, running: () => boolean) {
  const stats = newStats();
  const done = keepOpen(connections, running, (finished) => {
    const socket = socketTo(target, stats, finished);
    socket.pause();
    socket.once("connect", () => {
      stats.requests += perConnection;
      socket.write(get("/metrics").repeat(perConnection));
    });
    // Unread for 5 s, then read (and drop) whatever came, which shows whether the server closed
    // the connection; given up after 20 s in any case (bounded on the client side too).
    setTimeout(() => socket.resume(), 5_000);
    setTimeout(() => socket.destroy(), 20_000);
  });
  return { stats, done };
}

/** Bursts of 300 scrapes in 1.5 s, each with a scrape timeout slightly below the one before. */
export function shrinkingTimeouts(target: Target, running: () => boolean) {
  const stats = newStats();
  const done = (async () => {
    while (running()) {
      const burst: Promise<void>[] = [];
      for (let i = 0; i < 300 && running(); i++) {
        stats.requests++;
        burst.push(
          fetch(`http://${target.host}:${target.port}/metrics`, {
            headers: { "x-prometheus-scrape-timeout-seconds": (10 - i * 0.01).toFixed(2) },
          }).then(
            async (res) => {
              await res.arrayBuffer();
              stats.answers++;
            },
            () => void stats.errors++,
          ),
        );
        if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await Promise.all(burst);
    }
  })();
  return { stats, done };
}

/** Slow headers (a byte a second), oversized headers and too many headers, over and over. */
export function headerTricks(target: Target, slowConnections: number, running: () => boolean) {
  const stats = newStats();
  const slow = keepOpen(slowConnections, running, (finished) => {
    const socket = socketTo(target, stats, finished);
    socket.resume();
    const text = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    let i = 0;
    const timer = setInterval(() => {
      if (!running() || socket.destroyed) {
        clearInterval(timer);
        socket.destroy();
        return;
      }
      socket.write(i < text.length ? text[i] as string : "a");
      i++;
    }, 1000);
    socket.once("connect", () => void stats.requests++);
  });
  const odd = (async () => {
    const big = { "x-big": "a".repeat(20_000) };
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`x-h${i}`, "1"]));
    while (running()) {
      for (const headers of [big, many]) {
        stats.requests++;
        await new Promise<void>((resolve) => {
          const socket = connect(target.port, target.host);
          socket.on("error", () => undefined);
          socket.on("data", (chunk: Buffer) => {
            if (/^HTTP\/1\.1 (4\d\d)/.test(chunk.toString("latin1"))) stats.answers++;
          });
          socket.once("close", () => resolve());
          socket.once("connect", () => socket.end(get("/metrics", headers)));
          setTimeout(() => socket.destroy(), 5000).unref();
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return { stats, done: Promise.all([slow, odd]).then(() => undefined) };
}
