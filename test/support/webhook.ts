// A webhook receiver for Alertmanager on loopback: records every notification it is sent
// (Alertmanager's webhook payload, version 4) so tests can wait for an alert to fire or resolve.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { waitFor } from "../lab/wait.js";

/** One alert of a notification, as Alertmanager's webhook_config sends it. */
export interface NotifiedAlert {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** The body of one webhook POST. */
export interface Notification {
  version: string;
  groupKey: string;
  truncatedAlerts: number;
  status: "firing" | "resolved";
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: NotifiedAlert[];
}

export interface Received {
  /** When the receiver got it (ms since the epoch). */
  at: number;
  path: string;
  notification: Notification;
}

export interface Webhook {
  /** "http://127.0.0.1:PORT/alerts" */
  readonly url: string;
  /** Every notification so far, in arrival order. */
  readonly received: readonly Received[];
  /** Every alert of every notification so far, in arrival order. */
  alerts(): NotifiedAlert[];
  /**
   * Waits until a received alert satisfies `match` and returns the first such alert.
   * `describe` adds detail (e.g. Prometheus' view) to the timeout error.
   */
  waitForAlert(
    what: string,
    match: (alert: NotifiedAlert) => boolean,
    options: { timeoutMs: number; describe?: () => string | Promise<string> },
  ): Promise<NotifiedAlert>;
  /** A short listing of what arrived, for failure messages. */
  summary(): string;
  close(): Promise<void>;
}

const MAX_BODY = 4 * 1024 * 1024;

export async function startWebhook(path = "/alerts"): Promise<Webhook> {
  const received: Received[] = [];
  const errors: string[] = [];

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    request.on("end", () => {
      if (request.method !== "POST" || request.url !== path) {
        errors.push(`${request.method} ${request.url}`);
        response.writeHead(404).end();
        return;
      }
      try {
        const notification = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Notification;
        received.push({ at: Date.now(), path: request.url, notification });
        response.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      } catch (error) {
        errors.push(`unparsable body: ${(error as Error).message}`);
        response.writeHead(400).end();
      }
    });
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const alerts = () => received.flatMap((r) => r.notification.alerts);
  const summary = () => {
    const lines = received.map((r) =>
      [
        `${new Date(r.at).toISOString()} ${r.notification.status}:`,
        ...r.notification.alerts.map((a) => `  ${a.status} ${JSON.stringify(a.labels)}`),
      ].join("\n"),
    );
    if (errors.length > 0) lines.push(`bad requests: ${errors.join("; ")}`);
    return lines.length === 0 ? "(no notification received)" : lines.join("\n");
  };

  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    alerts,
    summary,
    async waitForAlert(what, match, options) {
      return waitFor(what, () => alerts().find(match), {
        timeoutMs: options.timeoutMs,
        intervalMs: 100,
        describe: async () =>
          `--- webhook received\n${summary()}${options.describe ? `\n${await options.describe()}` : ""}`,
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
