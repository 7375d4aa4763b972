import { EventEmitter } from "node:events";
import { type FSWatcher, watch } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Server as TlsServer, TLSSocket } from "node:tls";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { BASIC_REALM, BasicAuth } from "./basic-auth.js";
import { RateLimitedLog } from "./rate-limited-log.js";
import {
  clientCertRefusal,
  type LoadedWebConfig,
  loadWebConfig,
  secureContextOptions,
  type WebConfig,
  WebConfigError,
} from "./file.js";

export interface WebConfigManagerOptions {
  log: FastifyBaseLogger;
  /** Quiet time after the last file event before re-reading. */
  debounceMs?: number;
}

export interface ReloadEvent {
  ok: boolean;
  /** false when the files were touched but nothing changed. */
  changed: boolean;
  error?: string;
}

interface AttachedApp {
  server: TlsServer | undefined;
  /** The listener serves admin routes behind a bearer token: basic auth cannot share the header. */
  bearerAdmin: boolean;
}

export const ADMIN_CONFLICT =
  "basic_auth_users cannot protect a listener that also serves the admin routes: both use the Authorization " +
  "header (Basic for basic auth, Bearer for the admin token). Serve the admin routes on their own listener " +
  "with --admin.listen-address (e.g. 127.0.0.1:9978), which applies TLS but not basic auth; see docs/security.md";

/**
 * The web configuration in force. Attach it to each app (listener) before
 * routes are registered: it adds the basic-auth hook and the client-certificate
 * policy, and on reload swaps certificates with setSecureContext() and users
 * in place. A reload that fails (unreadable, invalid, or a change that needs a
 * restart, like turning TLS on or off) keeps the previous configuration and
 * logs why. Emits "reload" with a ReloadEvent.
 */
export class WebConfigManager extends EventEmitter {
  readonly basicAuth: BasicAuth;
  private loaded: LoadedWebConfig;
  private readonly attached = new Set<AttachedApp>();
  private watchers: FSWatcher[] = [];
  private watchedDirs = "";
  private timer: NodeJS.Timeout | undefined;
  private readonly debounceMs: number;
  private readonly log: FastifyBaseLogger;
  private closed = false;
  /** A flood of bad handshakes must not flood the log too. */
  private readonly refusals: RateLimitedLog;

  constructor(
    readonly path: string,
    options: WebConfigManagerOptions,
  ) {
    super();
    this.log = options.log;
    this.refusals = new RateLimitedLog(options.log);
    this.debounceMs = options.debounceMs ?? 250;
    this.loaded = loadWebConfig(path);
    this.basicAuth = new BasicAuth(this.loaded.config.users);
    if (this.basicAuth.enabled && !this.loaded.tls) {
      this.log.warn("basic_auth_users without tls_server_config: passwords cross the network in clear text");
    }
  }

  get config(): WebConfig {
    return this.loaded.config;
  }

  get tlsEnabled(): boolean {
    return this.loaded.tls !== null;
  }

  /** fastify's `https` option, or null for plain HTTP. */
  httpsOptions(): object | null {
    const tls = this.loaded.tls;
    if (!tls) return null;
    return { ...secureContextOptions(tls), requestCert: tls.requestCert, rejectUnauthorized: tls.rejectUnauthorized };
  }

  /**
   * Applies the configuration to an app built with httpsOptions(): call it
   * before registering routes. `basicAuth` false for the admin listener;
   * `bearerAdmin` when the app serves the admin routes behind a token.
   */
  attach(app: FastifyInstance, options: { basicAuth: boolean; bearerAdmin: boolean }): void {
    const useBasicAuth = options.basicAuth;
    if (useBasicAuth && options.bearerAdmin && this.basicAuth.enabled) {
      throw new WebConfigError(this.path, ADMIN_CONFLICT);
    }
    const entry: AttachedApp = {
      server: this.loaded.tls ? (app.server as unknown as TlsServer) : undefined,
      bearerAdmin: useBasicAuth && options.bearerAdmin,
    };
    this.attached.add(entry);
    app.addHook("onClose", async () => {
      this.attached.delete(entry);
    });
    if (entry.server) {
      entry.server.prependListener("secureConnection", (socket: TLSSocket) => {
        const reason = clientCertRefusal(socket, this.loaded.config.tls?.clientAuthType ?? "NoClientCert");
        if (reason) {
          this.refusals.warn({ client: socket.remoteAddress, reason }, "TLS connection refused");
          socket.destroy();
        }
      });
      // Handshakes Node itself fails: RequireAndVerifyClientCert without a valid certificate, no
      // shared cipher suite, curve or version, plain HTTP on the TLS port.
      entry.server.on("tlsClientError", (error: Error & { code?: string }, socket: TLSSocket) => {
        this.refusals.warn({ client: socket.remoteAddress, reason: error.code ?? error.message }, "TLS connection refused");
      });
    }
    if (!useBasicAuth) return;
    app.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
      if (!this.basicAuth.enabled) return;
      const result = await this.basicAuth.verify(request.headers.authorization, request.ip);
      if (result.ok) return;
      this.refusals.warn({ reason: result.reason, client: request.ip, url: request.url }, "basic auth refused");
      if (result.limited) {
        return reply.code(429).header("Retry-After", "60").send({ error: `too many requests: ${result.reason}` });
      }
      return reply.code(401).header("WWW-Authenticate", BASIC_REALM).send({ error: `unauthorized: ${result.reason}` });
    });
  }

  /** Re-reads the file now. Returns whether the configuration in force is the file's. */
  reload(): boolean {
    let next: LoadedWebConfig;
    try {
      next = loadWebConfig(this.path);
    } catch (error) {
      return this.refuse((error as Error).message);
    }
    if (next.fingerprint === this.loaded.fingerprint) {
      this.emit("reload", { ok: true, changed: false } satisfies ReloadEvent);
      return true;
    }
    if ((next.tls === null) !== (this.loaded.tls === null)) {
      return this.refuse(`turning TLS ${next.tls ? "on" : "off"} needs a restart`);
    }
    if (next.config.users.size > 0 && [...this.attached].some((a) => a.bearerAdmin)) {
      return this.refuse(ADMIN_CONFLICT);
    }
    if (next.tls) {
      for (const { server } of this.attached) {
        if (!server) continue;
        server.setSecureContext(secureContextOptions(next.tls));
        // Read by Node for each new connection.
        const policy = server as TlsServer & { requestCert: boolean; rejectUnauthorized: boolean };
        policy.requestCert = next.tls.requestCert;
        policy.rejectUnauthorized = next.tls.rejectUnauthorized;
      }
    }
    this.basicAuth.setUsers(next.config.users);
    this.loaded = next;
    this.log.info(
      { tls: next.tls !== null, clientAuth: next.config.tls?.clientAuthType, users: next.config.users.size },
      "web config reloaded",
    );
    this.emit("reload", { ok: true, changed: true } satisfies ReloadEvent);
    this.rewatch();
    return true;
  }

  /** Watches the file and the certificates it names (their directories, so that replaced files and Kubernetes' symlink swaps are seen). */
  watch(): void {
    this.rewatch();
  }

  close(): void {
    this.closed = true;
    this.basicAuth.close();
    clearTimeout(this.timer);
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
  }

  private refuse(error: string): false {
    this.log.error({ err: error }, `web config reload failed, keeping the previous configuration: ${error}`);
    this.emit("reload", { ok: false, changed: false, error } satisfies ReloadEvent);
    return false;
  }

  private rewatch(): void {
    if (this.closed) return;
    const tls = this.loaded.config.tls;
    const files = [this.path, tls?.certFile, tls?.keyFile, tls?.clientCaFile].filter((f): f is string => !!f);
    const dirs = [...new Set(files.map((f) => dirname(resolve(f))))].sort();
    if (dirs.join("\0") === this.watchedDirs) return;
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    this.watchedDirs = dirs.join("\0");
    for (const dir of dirs) {
      try {
        const watcher = watch(dir, { persistent: false }, () => this.schedule());
        watcher.on("error", (error) => this.log.warn({ err: error, dir }, "cannot watch the web config's directory"));
        this.watchers.push(watcher);
      } catch (error) {
        this.log.warn({ err: error, dir }, "cannot watch the web config's directory; send SIGHUP to reload");
      }
    }
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.reload(), this.debounceMs);
    this.timer.unref();
  }
}
