import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { type FSWatcher, readFileSync, watch } from "node:fs";
import { dirname, resolve } from "node:path";
import { createSecureContext, type SecureVersion, type Server as TlsServer, type TLSSocket } from "node:tls";
import bcrypt from "bcryptjs";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { parse as parseYaml } from "yaml";
import { createLimiter } from "../util/limit.js";

/**
 * `--web.config.file`: the subset of prometheus/exporter-toolkit's web
 * configuration this exporter implements (TLS and basic auth), with the same
 * names, defaults and refusals, reloaded when the file (or a certificate it
 * names) changes.
 *
 *   tls_server_config:
 *     cert_file: server.crt        # relative paths are relative to this file
 *     key_file: server.key
 *     client_ca_file: clients.crt
 *     client_auth_type: RequireAndVerifyClientCert
 *     min_version: TLS12           # TLS10..TLS13, default TLS12
 *     max_version: TLS13
 *   basic_auth_users:
 *     prometheus: $2y$10$...       # bcrypt hash (htpasswd -nBC 10 "" | tr -d ':\n')
 */

export const CLIENT_AUTH_TYPES = [
  "NoClientCert",
  "RequestClientCert",
  "RequireAnyClientCert",
  "VerifyClientCertIfGiven",
  "RequireAndVerifyClientCert",
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

const TLS_VERSIONS: Record<string, SecureVersion> = {
  TLS10: "TLSv1",
  TLS11: "TLSv1.1",
  TLS12: "TLSv1.2",
  TLS13: "TLSv1.3",
};
const VERSION_ORDER: SecureVersion[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

const TOP_LEVEL_KEYS = ["tls_server_config", "basic_auth_users"];
const TLS_KEYS = [
  "cert_file",
  "key_file",
  "client_ca_file",
  "client_auth_type",
  "min_version",
  "max_version",
  "prefer_server_cipher_suites",
];
/** exporter-toolkit settings this exporter does not implement: refused rather than silently ignored. */
const UNSUPPORTED: Record<string, string> = {
  http_server_config: "http_server_config (HTTP/2 and response headers)",
  rate_limit: "rate_limit",
  "tls_server_config.cert": "inline certificates (tls_server_config.cert); use cert_file",
  "tls_server_config.key": "inline keys (tls_server_config.key); use key_file",
  "tls_server_config.client_ca": "inline client CAs (tls_server_config.client_ca); use client_ca_file",
  "tls_server_config.cipher_suites": "tls_server_config.cipher_suites",
  "tls_server_config.curve_preferences": "tls_server_config.curve_preferences",
  "tls_server_config.client_allowed_sans": "tls_server_config.client_allowed_sans",
};

/** bcrypt as htpasswd, Go and bcryptjs write it: $2a$, $2b$ or $2y$, a two-digit cost, 53 characters of salt and hash. */
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

export interface TlsServerConfig {
  certFile: string;
  keyFile: string;
  /** undefined: Node's bundled roots verify client certificates (as Go uses the system pool). */
  clientCaFile: string | undefined;
  clientAuthType: ClientAuthType;
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
  preferServerCipherSuites: boolean;
}

export interface WebConfig {
  /** Absolute path of the file it was read from. */
  path: string;
  /** null: plain HTTP. */
  tls: TlsServerConfig | null;
  /** user → bcrypt hash; empty: no basic auth. */
  users: Map<string, string>;
}

/** A web configuration that cannot be used; the message names the file and what is wrong. */
export class WebConfigError extends Error {
  constructor(path: string, message: string) {
    super(`--web.config.file ${path}: ${message}`);
    this.name = "WebConfigError";
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkKeys(fail: (m: string) => never, mapping: Record<string, unknown>, allowed: string[], prefix: string) {
  for (const key of Object.keys(mapping)) {
    if (allowed.includes(key)) continue;
    const unsupported = UNSUPPORTED[prefix + key];
    if (unsupported) fail(`${unsupported} is an exporter-toolkit setting this exporter does not support`);
    fail(`unknown key ${JSON.stringify(prefix + key)}; known keys: ${allowed.map((k) => prefix + k).join(", ")}`);
  }
}

/** Parses and validates the YAML text; file paths are resolved against the file's directory like exporter-toolkit. */
export function parseWebConfig(text: string, path: string): WebConfig {
  const absolute = resolve(path);
  const fail = (message: string): never => {
    throw new WebConfigError(path, message);
  };
  let document: unknown;
  try {
    document = parseYaml(text, { uniqueKeys: true, maxAliasCount: 10 });
  } catch (error) {
    fail(`not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  document ??= {}; // an empty file: plain HTTP, no authentication
  if (!isMapping(document)) return fail("must be a YAML mapping with tls_server_config and/or basic_auth_users");
  checkKeys(fail, document, TOP_LEVEL_KEYS, "");

  const users = new Map<string, string>();
  const rawUsers = document.basic_auth_users ?? {};
  if (!isMapping(rawUsers)) fail("basic_auth_users must be a mapping of user name to bcrypt hash");
  for (const [user, hash] of Object.entries(rawUsers as Record<string, unknown>)) {
    if (typeof hash !== "string" || !BCRYPT.test(hash)) {
      fail(`basic_auth_users.${user}: not a bcrypt hash (expected $2y$10$… as written by htpasswd -B)`);
    }
    const cost = Number(BCRYPT.exec(hash as string)?.[1]);
    if (cost < 4 || cost > 31) fail(`basic_auth_users.${user}: bcrypt cost ${cost} is out of range 4..31`);
    if (user.includes(":")) fail(`basic_auth_users: user name ${JSON.stringify(user)} contains ":"`);
    users.set(user, hash as string);
  }

  const rawTls = document.tls_server_config ?? {};
  if (!isMapping(rawTls)) return fail("tls_server_config must be a mapping");
  checkKeys(fail, rawTls, TLS_KEYS, "tls_server_config.");
  const str = (key: string): string => {
    const value = rawTls[key] ?? "";
    if (typeof value !== "string") fail(`tls_server_config.${key} must be a string`);
    return value as string;
  };
  const certFile = str("cert_file");
  const keyFile = str("key_file");
  const clientCaFile = str("client_ca_file");
  const clientAuth = str("client_auth_type");
  const minVersion = str("min_version");
  const maxVersion = str("max_version");
  const prefer = rawTls.prefer_server_cipher_suites ?? true;
  if (typeof prefer !== "boolean") fail("tls_server_config.prefer_server_cipher_suites must be true or false");

  // exporter-toolkit: no TLS setting at all means plain HTTP.
  const tlsEnabled = [certFile, keyFile, clientCaFile, clientAuth].some((v) => v !== "");
  let tls: TlsServerConfig | null = null;
  if (tlsEnabled) {
    if (certFile === "") fail("tls_server_config: missing cert_file");
    if (keyFile === "") fail("tls_server_config: missing key_file");
    // "RequireClientCert" is exporter-toolkit's old name of RequireAnyClientCert.
    const authType = clientAuth === "" ? "NoClientCert" : clientAuth === "RequireClientCert" ? "RequireAnyClientCert" : clientAuth;
    if (!(CLIENT_AUTH_TYPES as readonly string[]).includes(authType)) {
      fail(`tls_server_config.client_auth_type: invalid ${JSON.stringify(clientAuth)}; one of ${CLIENT_AUTH_TYPES.join(", ")}`);
    }
    if (clientCaFile !== "" && authType === "NoClientCert") {
      fail("tls_server_config: client_ca_file is set but client_auth_type is NoClientCert (client CAs configured without a client auth policy)");
    }
    const version = (key: string, value: string, fallback: SecureVersion): SecureVersion => {
      if (value === "") return fallback;
      const found = TLS_VERSIONS[value];
      if (!found) return fail(`tls_server_config.${key}: unknown TLS version ${JSON.stringify(value)}; one of ${Object.keys(TLS_VERSIONS).join(", ")}`);
      return found;
    };
    const min = version("min_version", minVersion, "TLSv1.2");
    const max = version("max_version", maxVersion, "TLSv1.3");
    if (VERSION_ORDER.indexOf(min) > VERSION_ORDER.indexOf(max)) fail("tls_server_config: min_version is above max_version");
    const base = dirname(absolute);
    tls = {
      certFile: resolve(base, certFile),
      keyFile: resolve(base, keyFile),
      clientCaFile: clientCaFile === "" ? undefined : resolve(base, clientCaFile),
      clientAuthType: authType as ClientAuthType,
      minVersion: min,
      maxVersion: max,
      preferServerCipherSuites: prefer as boolean,
    };
  } else if (minVersion !== "" || maxVersion !== "") {
    fail("tls_server_config: min_version/max_version given without cert_file and key_file");
  }
  return { path: absolute, tls, users };
}

/** What Node's TLS server needs: the secure context's material and the handshake's client-certificate policy. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
  honorCipherOrder: boolean;
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

export interface LoadedWebConfig {
  config: WebConfig;
  tls: TlsMaterial | null;
  /** Changes when the file or any certificate or key it names changes. */
  fingerprint: string;
}

function readOrFail(path: string, what: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new WebConfigError(path, `cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Reads the file and the certificates it names, and checks that Node accepts them. Throws WebConfigError. */
export function loadWebConfig(path: string): LoadedWebConfig {
  const text = readOrFail(path, "the web config", path);
  const config = parseWebConfig(text.toString("utf8"), path);
  const hash = createHash("sha256").update(text);
  let tls: TlsMaterial | null = null;
  if (config.tls) {
    const t = config.tls;
    const cert = readOrFail(path, "cert_file", t.certFile);
    const key = readOrFail(path, "key_file", t.keyFile);
    const ca = t.clientCaFile === undefined ? undefined : readOrFail(path, "client_ca_file", t.clientCaFile);
    for (const part of [cert, key, ca ?? Buffer.alloc(0)]) hash.update(createHash("sha256").update(part).digest());
    tls = {
      cert,
      key,
      ...(ca ? { ca } : {}),
      minVersion: t.minVersion,
      maxVersion: t.maxVersion,
      honorCipherOrder: t.preferServerCipherSuites,
      // Node enforces RequireAndVerifyClientCert in the handshake itself; the
      // two policies it has no switch for are enforced per connection (enforceClientAuth).
      requestCert: t.clientAuthType !== "NoClientCert",
      rejectUnauthorized: t.clientAuthType === "RequireAndVerifyClientCert",
    };
    try {
      createSecureContext(secureContextOptions(tls));
    } catch (error) {
      throw new WebConfigError(path, `cert_file, key_file or client_ca_file not usable: ${(error as Error).message}`);
    }
  }
  return { config, tls, fingerprint: hash.digest("hex") };
}

function secureContextOptions(tls: TlsMaterial) {
  return {
    cert: tls.cert,
    key: tls.key,
    ...(tls.ca ? { ca: tls.ca } : {}),
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
    honorCipherOrder: tls.honorCipherOrder,
  };
}

/**
 * Client-certificate policies Node's handshake does not express on its own:
 * RequireAnyClientCert (a certificate, verified or not) and
 * VerifyClientCertIfGiven (none, or one that verifies). Returns why the
 * connection must be refused, or undefined.
 */
export function clientCertRefusal(socket: TLSSocket, type: ClientAuthType): string | undefined {
  if (type !== "RequireAnyClientCert" && type !== "VerifyClientCertIfGiven") return undefined;
  const cert = socket.getPeerCertificate();
  const given = cert !== null && cert !== undefined && Object.keys(cert).length > 0;
  if (type === "RequireAnyClientCert" && !given) return "no client certificate";
  if (type === "VerifyClientCertIfGiven" && given && !socket.authorized) {
    return `client certificate not verified: ${String(socket.authorizationError)}`;
  }
  return undefined;
}

// --- basic auth ---------------------------------------------------------------------

export const BASIC_REALM = 'Basic realm="containerd-orphan-exporter", charset="UTF-8"';
const CACHE_LIMIT = 256;
const MAX_HEADER_LENGTH = 4096;

export type BasicAuthResult = { ok: true; user: string } | { ok: false; reason: string };

/**
 * exporter-toolkit's basic_auth_users check. A successful bcrypt comparison
 * is cached under a SHA-256 of user, hash and password (so a changed hash or
 * password misses the cache, and the cache holds no password), so a scrape
 * costs one hash, not one bcrypt. An unknown user is compared against a real
 * hash all the same so that timing does not tell which users exist; bcryptjs
 * compares the result in constant time; comparisons run one at a time (as
 * exporter-toolkit's mutex) so that a flood of wrong passwords costs one core.
 */
export class BasicAuth {
  /** bcrypt comparisons done, for tests and to show the cache works. */
  comparisons = 0;
  private readonly successes = new Set<string>();
  private readonly pending = new Map<string, Promise<boolean>>();
  private readonly limit = createLimiter(1);

  constructor(private users: Map<string, string>) {}

  get enabled(): boolean {
    return this.users.size > 0;
  }

  setUsers(users: Map<string, string>): void {
    this.users = users;
    this.successes.clear();
  }

  async verify(header: string | undefined): Promise<BasicAuthResult> {
    if (!this.enabled) return { ok: false, reason: "no users configured" };
    if (header === undefined || header === "") return { ok: false, reason: "no credentials" };
    if (header.length > MAX_HEADER_LENGTH) return { ok: false, reason: "credentials too long" };
    const match = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
    if (!match) return { ok: false, reason: "not Basic credentials" };
    const decoded = Buffer.from(match[1] as string, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon === -1) return { ok: false, reason: "malformed Basic credentials" };
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const known = this.users.get(user);
    // An unknown user costs the same bcrypt as a known one.
    const hash = known ?? (this.users.values().next().value as string);
    const key = createHash("sha256").update(user).update("\0").update(hash).update("\0").update(password).digest("hex");
    if (known !== undefined && this.successes.has(key)) return { ok: true, user };
    let comparison = this.pending.get(key);
    if (!comparison) {
      comparison = this.limit(async () => {
        this.comparisons++;
        return bcrypt.compare(password, hash);
      }).finally(() => this.pending.delete(key));
      this.pending.set(key, comparison);
    }
    const matches = await comparison;
    if (!matches || known === undefined || this.users.get(user) !== hash) return { ok: false, reason: "wrong user or password" };
    if (this.successes.size >= CACHE_LIMIT) this.successes.delete(this.successes.values().next().value as string);
    this.successes.add(key);
    return { ok: true, user };
  }
}

// --- the live configuration -----------------------------------------------------------

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

  constructor(
    readonly path: string,
    options: WebConfigManagerOptions,
  ) {
    super();
    this.log = options.log;
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
          this.log.warn({ client: socket.remoteAddress, reason }, "TLS connection refused");
          socket.destroy();
        }
      });
    }
    if (!useBasicAuth) return;
    app.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
      if (!this.basicAuth.enabled) return;
      const result = await this.basicAuth.verify(request.headers.authorization);
      if (result.ok) return;
      request.log.warn({ reason: result.reason, client: request.ip, url: request.url }, "basic auth refused");
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
