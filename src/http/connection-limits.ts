import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";

/**
 * What one client may cost, whatever it sends. Prometheus sends one request
 * per connection at a time and reads every answer; a client that pipelines
 * requests without reading the answers (or stops reading altogether) would
 * otherwise pile up responses in memory until the process dies.
 */
export const LIMITS = {
  /** Requests a connection may have waiting for their answer; one more closes it. */
  pendingPerConnection: 16,
  /** Requests served on one connection before it is closed (the client reconnects). */
  requestsPerConnection: 1000,
  /** An answer the client does not read for this long closes its connection. */
  stalledWriteMs: 30_000,
  /** Time to send the request headers (slow-header clients). */
  headersTimeoutMs: 10_000,
  /** Time to send the whole request, body included. */
  requestTimeoutMs: 30_000,
  maxHeadersCount: 100,
  /** Bytes of request headers (Node's default is 16 KiB). */
  maxHeaderSize: 16 * 1024,
};

/** The part of LIMITS that fastify passes to Node's http(s) server; `https` is the TLS options or null. */
export function serverOptions(https: object | null) {
  return {
    maxRequestsPerSocket: LIMITS.requestsPerConnection,
    requestTimeout: LIMITS.requestTimeoutMs,
    ...(https ? { https: { ...https, maxHeaderSize: LIMITS.maxHeaderSize } } : { http: { maxHeaderSize: LIMITS.maxHeaderSize } }),
  };
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Closes a connection that pipelines too far ahead or stops reading its
 * answers. The pipelining check sits in front of fastify, on the server's
 * "request" event: the rest of a batch of a thousand pipelined requests on a
 * connection already closed costs Node's parse and nothing more.
 */
export function limitConnections(app: FastifyInstance, log: FastifyBaseLogger): void {
  const server = app.server as unknown as Server & { headersTimeout: number; maxHeadersCount: number | null };
  server.headersTimeout = LIMITS.headersTimeoutMs;
  server.maxHeadersCount = LIMITS.maxHeadersCount;
  const pending = new WeakMap<Socket, number>();
  const watched = new WeakSet<Socket>();

  const handlers = server.listeners("request") as RequestListener[];
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    if (socket.destroyed) return; // no answer can reach anyone
    const count = (pending.get(socket) ?? 0) + 1;
    pending.set(socket, count);
    // The response's "close": sent in full, or its connection gone.
    res.once("close", () => pending.set(socket, (pending.get(socket) ?? 1) - 1));
    if (count > LIMITS.pendingPerConnection) {
      log.warn(
        { client: socket.remoteAddress, pending: count },
        `connection closed: more than ${LIMITS.pendingPerConnection} requests waiting for their answers (pipelined without reading)`,
      );
      socket.destroy();
      return;
    }
    for (const handler of handlers) handler(req, res);
  });

  // After the answer is handed to the socket: if the client is not taking it, give it a while, then let go.
  app.addHook("onSend", async (request, _reply, payload) => {
    const socket = request.raw.socket as Socket | null;
    if (socket && typeof socket.once === "function") setImmediate(() => watchStall(socket, request.ip));
    return payload;
  });

  function watchStall(socket: Socket, client: string): void {
    if (!socket.writableNeedDrain || watched.has(socket) || socket.destroyed) return;
    watched.add(socket);
    const timer = setTimeout(() => {
      log.warn({ client, buffered: socket.writableLength }, `connection closed: the client read nothing for ${LIMITS.stalledWriteMs / 1000}s`);
      socket.destroy();
    }, LIMITS.stalledWriteMs);
    timer.unref();
    const clear = () => {
      clearTimeout(timer);
      watched.delete(socket);
    };
    socket.once("drain", clear);
    socket.once("close", clear);
  }
}
