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

/** What Node's HTTP server keeps on a connection's socket: the parser, and what it calls with each request. */
interface ParsedSocket extends Socket {
  parser?: { onIncoming?: ((req: IncomingMessage, keepAlive: boolean) => number) | null } | null;
}

/**
 * llhttp's HPE_PAUSED. Returned for a request's headers, it stops the parse
 * there: the bytes after it, already read from the socket, are never parsed.
 */
const STOP_PARSING = 21;

/**
 * Closes a connection that pipelines too far ahead or stops reading its
 * answers. Node parses every request of a chunk read from the socket in one
 * go, a thousand pipelined requests in one write included (about 150 ms of
 * the event loop each time, which /healthz waits out): so the limit sits in
 * the parser's own callback, where returning STOP_PARSING drops the rest of
 * the chunk unparsed. The same check on the "request" event, in front of
 * fastify, holds where that callback is not reachable.
 */
export function limitConnections(app: FastifyInstance, log: FastifyBaseLogger): void {
  const server = app.server as unknown as Server & { headersTimeout: number; maxHeadersCount: number | null };
  server.headersTimeout = LIMITS.headersTimeoutMs;
  server.maxHeadersCount = LIMITS.maxHeadersCount;
  const pending = new WeakMap<Socket, number>();
  const watched = new WeakSet<Socket>();
  const full = (socket: Socket) => (pending.get(socket) ?? 0) >= LIMITS.pendingPerConnection;
  const refuse = (socket: Socket) => {
    log.warn(
      { client: socket.remoteAddress, pending: pending.get(socket) ?? 0 },
      `connection closed: more than ${LIMITS.pendingPerConnection} requests waiting for their answers (pipelined without reading)`,
    );
    socket.destroy();
  };

  // Node's own listener, registered by the server's constructor, has given the socket its parser by now.
  const cutParsing = (socket: ParsedSocket) => {
    const parser = socket.parser;
    const onIncoming = parser?.onIncoming;
    if (!parser || typeof onIncoming !== "function") return;
    parser.onIncoming = (req, keepAlive) => {
      if (!full(socket)) return onIncoming(req, keepAlive);
      refuse(socket);
      return STOP_PARSING;
    };
  };
  server.on("connection", cutParsing);
  server.on("secureConnection", cutParsing);

  const handlers = server.listeners("request") as RequestListener[];
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    if (socket.destroyed) return; // no answer can reach anyone
    if (full(socket)) return refuse(socket);
    pending.set(socket, (pending.get(socket) ?? 0) + 1);
    // The response's "close": sent in full, or its connection gone.
    res.once("close", () => pending.set(socket, (pending.get(socket) ?? 1) - 1));
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
