import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import bcrypt from "bcryptjs";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, type Runtime } from "../../src/cli/runtime.js";
import { loadConfig } from "../../src/config/config.js";
import { Flags, parseArgs } from "../../src/config/flags.js";
import { buildApp } from "../../src/http/app.js";
import { BasicAuth, CLIENT_LIMITS } from "../../src/http/web-config/basic-auth.js";
import { loadWebConfig, parseWebConfig, WebConfigError } from "../../src/http/web-config/file.js";
import { type ReloadEvent, WebConfigManager } from "../../src/http/web-config/manager.js";
import { EC_KEY, opensslIn, selfSignedCert } from "../support/tls.js";

// containerd is absent: these tests are about the HTTP layer, /metrics answers containerd_up 0.
const NO_CONTAINERD = "--containerd.address=/nonexistent/containerd.sock";
const ADMIN_TOKEN = "correct-horse-battery-staple";

const dir = mkdtempSync(join(tmpdir(), "web-config-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const openssl = (...args: string[]) => opensslIn(dir, ...args);
const selfSigned = (name: string, cn?: string) => selfSignedCert(dir, name, cn);

/** A client certificate signed by `ca`. */
function signedClient(name: string, ca: { cert: string; key: string }): { cert: string; key: string } {
  openssl("req", ...EC_KEY, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
  writeFileSync(join(dir, `${name}.ext`), "extendedKeyUsage=clientAuth\n");
  openssl("x509", "-req", "-in", `${name}.csr`, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial",
    "-out", `${name}.crt`, "-days", "2", "-extfile", `${name}.ext`);
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

const fingerprintOf = (certFile: string) =>
  openssl("x509", "-in", certFile, "-noout", "-fingerprint", "-sha256").toString().split("=")[1]!.trim();

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  fingerprint: string;
}

/** One HTTPS request on a fresh connection (no keep-alive: each request sees the current certificate). */
function get(
  port: number,
  options: { path?: string; ca: string; auth?: string; client?: { cert: string; key: string }; method?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port,
        path: options.path ?? "/metrics",
        method: options.method ?? "GET",
        agent: false,
        ca: readFileSync(options.ca),
        ...(options.client ? { cert: readFileSync(options.client.cert), key: readFileSync(options.client.key) } : {}),
        headers: options.auth ? { authorization: options.auth } : {},
        timeout: 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            headers: res.headers,
            fingerprint: (res.socket as TLSSocket).getPeerCertificate().fingerprint256 ?? "",
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

interface Served {
  app: FastifyInstance;
  port: number;
  manager: WebConfigManager;
  runtime: Runtime;
  logs: () => string;
  close: () => Promise<void>;
}

const toClose: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of toClose.splice(0)) await close();
});

function capture() {
  const lines: string[] = [];
  const log = pino(
    { level: "debug", redact: { paths: ["req.headers.authorization"], censor: "[redacted]" } },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  return { log, logs: () => lines.join("") };
}

/** The real app and runtime with --web.config.file, listening on 127.0.0.1:0. */
async function serveWith(
  configPath: string,
  options: { env?: NodeJS.ProcessEnv; routes?: "main" | "admin" | "all"; listen?: boolean } = {},
): Promise<Served> {
  const env = options.env ?? {};
  const config = loadConfig(new Flags(parseArgs([NO_CONTAINERD, `--web.config.file=${configPath}`], env)), env);
  const { log, logs } = capture();
  const manager = new WebConfigManager(config.webConfigFile, { log, debounceMs: 50 });
  const runtime = createRuntime(config, log);
  const deps = { config, version: "0.0.0-test", source: runtime.source, metrics: runtime.metrics, pruner: runtime.pruner };
  let app: FastifyInstance;
  try {
    app = await buildApp(deps, { logger: log, webConfig: manager, routes: options.routes ?? "all" });
  } catch (error) {
    manager.close();
    runtime.close();
    throw error;
  }
  if (options.listen !== false) await app.listen({ host: "127.0.0.1", port: 0 });
  else await app.ready();
  const close = async () => {
    manager.close();
    await app.close();
    runtime.close();
  };
  toClose.push(close);
  const port = options.listen === false ? 0 : (app.server.address() as AddressInfo).port;
  return { app, port, manager, runtime, logs, close };
}

function nextReload(manager: WebConfigManager, predicate: (e: ReloadEvent) => boolean = (e) => e.changed || !e.ok) {
  return new Promise<ReloadEvent>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no reload within 5s")), 5000);
    const listener = (event: ReloadEvent) => {
      if (!predicate(event)) return;
      clearTimeout(timer);
      manager.off("reload", listener);
      resolve(event);
    };
    manager.on("reload", listener);
  });
}

const server = selfSigned("server");
const server2 = selfSigned("server2");
const clientCa = selfSigned("client-ca", "test client CA");
const trustedClient = signedClient("trusted-client", clientCa);
const rogueClient = selfSigned("rogue-client", "rogue");
const OLD_PASSWORD = "old-password";
const NEW_PASSWORD = "new-password";
const oldHash = bcrypt.hashSync(OLD_PASSWORD, 4);
const newHash = bcrypt.hashSync(NEW_PASSWORD, 4);

function writeConfig(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const tlsBlock = (extra = "", cert = "server.crt", key = "server.key") =>
  `tls_server_config:\n  cert_file: ${cert}\n  key_file: ${key}\n${extra}`;

describe("parsing the web config", () => {
  const parse = (text: string) => parseWebConfig(text, join(dir, "web.yml"));

  it("treats an empty file as plain HTTP without authentication", () => {
    expect(parse("")).toMatchObject({ tls: null });
    expect(parse("# nothing\n").users.size).toBe(0);
  });

  it("resolves relative file paths against the file's directory, like exporter-toolkit", () => {
    const config = parse(tlsBlock("  client_ca_file: /etc/ca.crt\n  client_auth_type: RequireAndVerifyClientCert\n"));
    expect(config.tls).toMatchObject({
      certFile: join(dir, "server.crt"),
      keyFile: join(dir, "server.key"),
      clientCaFile: "/etc/ca.crt",
      clientAuthType: "RequireAndVerifyClientCert",
      minVersion: "TLSv1.2",
      maxVersion: "TLSv1.3",
    });
  });

  it("accepts exporter-toolkit's old name RequireClientCert", () => {
    expect(parse(tlsBlock("  client_auth_type: RequireClientCert\n")).tls?.clientAuthType).toBe("RequireAnyClientCert");
  });

  it.each([
    ["an unknown top-level key", "tls_config:\n  cert_file: a\n", /unknown key "tls_config"/],
    ["a typo in tls_server_config", tlsBlock("  client_auth: RequireAndVerifyClientCert\n"), /unknown key "tls_server_config.client_auth"/],
    ["an exporter-toolkit key this exporter does not implement", "http_server_config:\n  http2: false\n", /does not support/],
    ["an unknown cipher suite", tlsBlock("  cipher_suites: [TLS_RSA_WITH_AES_512_SHA]\n"), /cipher_suites: unknown cipher suite "TLS_RSA_WITH_AES_512_SHA"/],
    ["a cipher suite OpenSSL dropped", tlsBlock("  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n"), /cipher_suites: cipher suite TLS_RSA_WITH_RC4_128_SHA is not available/],
    ["an unknown curve", tlsBlock("  curve_preferences: [CurveP999]\n"), /curve_preferences: unknown curve "CurveP999"/],
    ["cipher suites that are not a list", tlsBlock("  cipher_suites: TLS_AES_128_GCM_SHA256\n"), /cipher_suites must be a list/],
    ["a cert without a key", "tls_server_config:\n  cert_file: server.crt\n", /missing key_file/],
    ["an invalid client_auth_type", tlsBlock("  client_auth_type: Sometimes\n"), /client_auth_type: invalid "Sometimes"/],
    ["client CAs without a policy", tlsBlock("  client_ca_file: ca.crt\n"), /without a client auth policy/],
    ["an unknown TLS version", tlsBlock("  min_version: TLS14\n"), /unknown TLS version "TLS14"/],
    ["min above max", tlsBlock("  min_version: TLS13\n  max_version: TLS12\n"), /min_version is above max_version/],
    ["a plain-text password", "basic_auth_users:\n  prometheus: secret\n", /basic_auth_users.prometheus: not a bcrypt hash/],
    ["a list of users", "basic_auth_users:\n  - prometheus\n", /basic_auth_users must be a mapping/],
    ["YAML that does not parse", "basic_auth_users: [\n", /not valid YAML/],
    ["a duplicate key", `basic_auth_users:\n  a: ${oldHash}\n  a: ${newHash}\n`, /not valid YAML.*unique/],
    ["a scalar document", "just text\n", /must be a YAML mapping/],
  ])("refuses %s with a message naming it", (_name, text, message) => {
    expect(() => parse(text)).toThrow(WebConfigError);
    expect(() => parse(text)).toThrow(message);
  });

  it("names the file in its errors", () => {
    expect(() => parse("nonsense: 1\n")).toThrow(`--web.config.file ${join(dir, "web.yml")}:`);
  });

  it("refuses certificates that cannot be read or do not match their key", () => {
    const missing = writeConfig("missing.yml", tlsBlock("", "nowhere.crt"));
    expect(() => loadWebConfig(missing)).toThrow(/cannot read cert_file .*nowhere.crt: ENOENT/);
    const mismatch = writeConfig("mismatch.yml", tlsBlock("", "server.crt", "server2.key"));
    expect(() => loadWebConfig(mismatch)).toThrow(/not usable/);
  });

  it("refuses at start-up, before anything listens", () => {
    const bad = writeConfig("bad.yml", "basic_auth: {}\n");
    const { log } = capture();
    expect(() => new WebConfigManager(bad, { log })).toThrow(/unknown key "basic_auth"/);
  });
});

describe("basic auth", () => {
  it("caches a successful comparison so that a scrape costs one hash, not one bcrypt", async () => {
    const auth = new BasicAuth(new Map([["prometheus", oldHash]]));
    expect(await auth.verify(basic("prometheus", OLD_PASSWORD))).toEqual({ ok: true, user: "prometheus" });
    expect(await auth.verify(basic("prometheus", OLD_PASSWORD))).toEqual({ ok: true, user: "prometheus" });
    expect(auth.comparisons).toBe(1);
    // Concurrent first requests share one comparison too.
    const fresh = new BasicAuth(new Map([["prometheus", oldHash]]));
    const results = await Promise.all(Array.from({ length: 20 }, () => fresh.verify(basic("prometheus", OLD_PASSWORD))));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(fresh.comparisons).toBe(1);
  });

  it("never caches a failure and spends a bcrypt on unknown users too", async () => {
    const auth = new BasicAuth(new Map([["prometheus", oldHash]]));
    expect((await auth.verify(basic("prometheus", "wrong"))).ok).toBe(false);
    expect((await auth.verify(basic("prometheus", "wrong"))).ok).toBe(false);
    expect((await auth.verify(basic("nobody", OLD_PASSWORD))).ok).toBe(false);
    expect(auth.comparisons).toBe(3);
  });

  it.each([
    ["no header", undefined],
    ["a bearer token", "Bearer abc"],
    ["no colon", `Basic ${Buffer.from("prometheus").toString("base64")}`],
    ["garbage", "Basic !!!"],
    ["an oversized header", `Basic ${"A".repeat(10_000)}`],
  ])("refuses %s without a comparison", async (_name, header) => {
    const auth = new BasicAuth(new Map([["prometheus", oldHash]]));
    expect((await auth.verify(header)).ok).toBe(false);
    expect(auth.comparisons).toBe(0);
  });

  it("forgets cached successes when the users change", async () => {
    const auth = new BasicAuth(new Map([["prometheus", oldHash]]));
    expect((await auth.verify(basic("prometheus", OLD_PASSWORD))).ok).toBe(true);
    auth.setUsers(new Map([["prometheus", newHash]]));
    expect((await auth.verify(basic("prometheus", OLD_PASSWORD))).ok).toBe(false);
    expect((await auth.verify(basic("prometheus", NEW_PASSWORD))).ok).toBe(true);
  });
});

describe("TLS and basic auth on a listener", () => {
  let s: Served;
  beforeAll(async () => {
    const path = writeConfig("tls-auth.yml", `${tlsBlock()}basic_auth_users:\n  prometheus: ${oldHash}\n`);
    s = await serveWith(path);
    toClose.pop(); // closed in afterAll
  });
  afterAll(() => s.close());

  it("answers 401 with a Basic challenge without credentials", async () => {
    const res = await get(s.port, { ca: server.cert });
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toMatch(/^Basic realm="containerd-orphan-exporter"/);
    expect(JSON.parse(res.body).error).toMatch(/unauthorized/);
  });

  it.each([
    ["a wrong password", basic("prometheus", "wrong")],
    ["an unknown user", basic("grafana", OLD_PASSWORD)],
    ["a bearer token", `Bearer ${OLD_PASSWORD}`],
  ])("answers 401 to %s", async (_name, auth) => {
    expect((await get(s.port, { ca: server.cert, auth })).status).toBe(401);
  });

  it("serves /metrics over TLS with the right password", async () => {
    const res = await get(s.port, { ca: server.cert, auth: basic("prometheus", OLD_PASSWORD) });
    expect(res.status).toBe(200);
    expect(res.body).toContain("containerd_up 0");
    expect(res.fingerprint).toBe(fingerprintOf(server.cert));
  });

  it.each(["/", "/healthz", "/api/v1/inventory", "/no-such-page", "/admin/prune"])(
    "guards %s too",
    async (path) => {
      expect((await get(s.port, { ca: server.cert, path })).status).toBe(401);
    },
  );

  it("refuses plain HTTP on the TLS port", async () => {
    const attempt = new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port: s.port, path: "/healthz", agent: false, timeout: 3000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
      req.end();
    });
    await expect(attempt).rejects.toThrow();
  });

  it("never writes a password to the log", () => {
    expect(s.logs()).toContain("basic auth refused");
    expect(s.logs()).not.toContain(OLD_PASSWORD);
    expect(s.logs()).not.toContain(Buffer.from(`prometheus:${OLD_PASSWORD}`).toString("base64"));
  });
});

describe("client certificates", () => {
  const withAuth = (type: string, ca = true) =>
    writeConfig(`client-${type}.yml`, tlsBlock(`${ca ? "  client_ca_file: client-ca.crt\n" : ""}  client_auth_type: ${type}\n`));
  const ok = async (port: number, client?: { cert: string; key: string }) =>
    (await get(port, { ca: server.cert, path: "/healthz", ...(client ? { client } : {}) })).status;

  it("RequireAndVerifyClientCert refuses a client without a certificate, or with one the CA did not sign", async () => {
    const s = await serveWith(withAuth("RequireAndVerifyClientCert"));
    await expect(ok(s.port)).rejects.toThrow();
    await expect(ok(s.port, rogueClient)).rejects.toThrow();
    expect(await ok(s.port, trustedClient)).toBe(200);
    // Node refuses these in the handshake itself; the refusal is logged all the same.
    await waitUntil(() => (s.logs().match(/TLS connection refused/g) ?? []).length >= 2);
    expect(s.logs()).toMatch(/"reason":"[^"]*(CERTIFICATE|certificate)[^"]*".*TLS connection refused/);
  });

  it("RequireAnyClientCert refuses a client without a certificate but takes any certificate", async () => {
    const s = await serveWith(withAuth("RequireAnyClientCert", false));
    await expect(ok(s.port)).rejects.toThrow();
    expect(await ok(s.port, rogueClient)).toBe(200);
    expect(s.logs()).toContain("TLS connection refused");
  });

  it("VerifyClientCertIfGiven takes no certificate, or one the CA signed", async () => {
    const s = await serveWith(withAuth("VerifyClientCertIfGiven"));
    expect(await ok(s.port)).toBe(200);
    expect(await ok(s.port, trustedClient)).toBe(200);
    await expect(ok(s.port, rogueClient)).rejects.toThrow();
  });

  it("RequestClientCert takes anything", async () => {
    const s = await serveWith(withAuth("RequestClientCert", false));
    expect(await ok(s.port)).toBe(200);
    expect(await ok(s.port, rogueClient)).toBe(200);
  });
});

/** Polls until `check` holds (a log line written by another event), for at most 5 s. */
async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
}

describe("cipher suites, curves and versions", () => {
  // An RSA certificate: the suites without forward secrecy (RSA key exchange) need one.
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rsa.key", "-out", "rsa.crt", "-days", "2",
    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost");
  const rsaBlock = (extra = "") => tlsBlock(extra, "rsa.crt", "rsa.key");

  /** The cipher negotiated by a TLS 1.2 (or `version`) client offering only `ciphers`, or the handshake error. */
  const negotiate = (port: number, options: { ciphers?: string; ecdhCurve?: string; version?: "TLSv1.2" | "TLSv1.3" }) =>
    new Promise<string>((resolve) => {
      const socket = tlsConnect({
        host: "127.0.0.1",
        port,
        ca: readFileSync(join(dir, "rsa.crt")),
        servername: "localhost",
        minVersion: options.version ?? "TLSv1.2",
        maxVersion: options.version ?? "TLSv1.2",
        ...(options.ciphers ? { ciphers: options.ciphers } : {}),
        ...(options.ecdhCurve ? { ecdhCurve: options.ecdhCurve } : {}),
      });
      socket.once("secureConnect", () => {
        resolve(socket.getCipher().name);
        socket.destroy();
      });
      socket.once("error", (error: Error & { code?: string }) => resolve(`refused: ${error.code ?? error.message}`));
    });

  it("refuses the suites without forward secrecy by default, and offers the AEAD ones", async () => {
    const s = await serveWith(writeConfig("rsa-default.yml", rsaBlock()));
    expect(await negotiate(s.port, { ciphers: "AES128-SHA" })).toMatch(/^refused/);
    expect(await negotiate(s.port, { ciphers: "AES256-SHA256" })).toMatch(/^refused/);
    expect(await negotiate(s.port, { ciphers: "ECDHE-RSA-AES128-SHA" })).toMatch(/^refused/); // CBC: not in the default
    expect(await negotiate(s.port, { ciphers: "ECDHE-RSA-AES128-GCM-SHA256" })).toBe("ECDHE-RSA-AES128-GCM-SHA256");
    expect(await negotiate(s.port, { version: "TLSv1.3" })).toMatch(/^TLS_/);
    await waitUntil(() => s.logs().includes("TLS connection refused"));
    expect(s.logs()).toMatch(/NO_SHARED_CIPHER|no shared cipher/i);
  });

  it("applies cipher_suites by Go's names to TLS 1.2, and leaves TLS 1.3 on as Go does", async () => {
    const s = await serveWith(writeConfig("rsa-suites.yml", rsaBlock("  cipher_suites:\n    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n")));
    expect(await negotiate(s.port, { ciphers: "ECDHE-RSA-AES128-GCM-SHA256" })).toMatch(/^refused/);
    expect(await negotiate(s.port, { ciphers: "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256" })).toBe(
      "ECDHE-RSA-AES256-GCM-SHA384",
    );
    expect(await negotiate(s.port, { version: "TLSv1.3" })).toMatch(/^TLS_/);
  });

  it("applies curve_preferences", async () => {
    const s = await serveWith(writeConfig("rsa-curves.yml", rsaBlock("  curve_preferences: [CurveP384]\n")));
    expect(await negotiate(s.port, { ecdhCurve: "X25519" })).toMatch(/^refused/);
    expect(await negotiate(s.port, { ecdhCurve: "P-384" })).toBe("ECDHE-RSA-AES128-GCM-SHA256");
  });

  it("applies max_version", async () => {
    const s = await serveWith(writeConfig("rsa-max12.yml", rsaBlock("  max_version: TLS12\n")));
    expect(await negotiate(s.port, { version: "TLSv1.3" })).toMatch(/^refused/);
    expect(await negotiate(s.port, {})).toMatch(/^ECDHE-RSA-/);
  });
});

describe("a flood of wrong passwords", () => {
  /** A plain-HTTP GET from a chosen loopback address (127.0.0.0/8 is all loopback on Linux). */
  const from = (port: number, address: string, auth: string) =>
    new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: "127.0.0.1", port, path: "/healthz", localAddress: address, agent: false, headers: { authorization: auth } },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end();
    });

  it("does not queue ahead of a valid login from another address: per-address budget, 429 past it", async () => {
    const hash = bcrypt.hashSync(OLD_PASSWORD, 8);
    const s = await serveWith(writeConfig("flood.yml", `basic_auth_users:\n  prometheus: ${hash}\n`));
    const auth = s.manager.basicAuth;
    const flood = Array.from({ length: 400 }, (_, i) => from(s.port, "127.0.0.2", basic("prometheus", `wrong-${i}`)));
    await new Promise((resolve) => setTimeout(resolve, 200)); // the flood is in
    let comparisonsBeforeValid = -1;
    const valid = from(s.port, "127.0.0.3", basic("prometheus", OLD_PASSWORD)).then((status) => {
      comparisonsBeforeValid = auth.comparisons;
      return status;
    });
    expect(await valid).toBe(200);
    const statuses = await Promise.all(flood);
    // The flood spent a couple of comparisons at a time, not 400: a new one starts only below the
    // failure budget and the in-flight cap, so at most failures − 1 + inFlight of them, plus the valid one.
    const floodMax = CLIENT_LIMITS.failures - 1 + CLIENT_LIMITS.inFlight;
    expect(comparisonsBeforeValid).toBeLessThanOrEqual(floodMax + 1);
    expect(auth.comparisons).toBeLessThanOrEqual(floodMax + 1);
    expect(statuses.filter((code) => code === 401).length).toBeLessThanOrEqual(floodMax);
    expect(statuses.filter((code) => code === 429).length).toBeGreaterThanOrEqual(400 - floodMax);
    // The address that flooded is refused without a comparison until its window passes; a
    // login it already proved (cached) costs no comparison and still works.
    const guesses: number[] = [];
    for (let i = 0; i <= CLIENT_LIMITS.failures; i++) guesses.push(await from(s.port, "127.0.0.2", basic("prometheus", `guess-${i}`)));
    expect(guesses.at(-1)).toBe(429);
    expect(auth.comparisons).toBeLessThanOrEqual(floodMax + 1); // failed comparisons stop at the budget
    const spent = auth.comparisons;
    expect(await from(s.port, "127.0.0.2", basic("prometheus", OLD_PASSWORD))).toBe(200);
    expect(auth.comparisons).toBe(spent);
  }, 60_000);
});

describe("reloading without a restart", () => {
  it("applies a new password hash and a new certificate, and keeps the old config when the file breaks", async () => {
    // Its own copies of the certificate files, which the test overwrites.
    writeFileSync(join(dir, "live.crt"), readFileSync(server.cert));
    writeFileSync(join(dir, "live.key"), readFileSync(server.key));
    const live = tlsBlock("", "live.crt", "live.key");
    const path = writeConfig("live.yml", `${live}basic_auth_users:\n  prometheus: ${oldHash}\n`);
    const s = await serveWith(path);
    s.manager.watch();
    const as = (password: string, ca = server.cert) =>
      get(s.port, { ca, auth: basic("prometheus", password), path: "/healthz" });
    expect((await as(OLD_PASSWORD)).status).toBe(200);

    // A new password.
    let reloaded = nextReload(s.manager);
    writeFileSync(path, `${live}basic_auth_users:\n  prometheus: ${newHash}\n`);
    expect(await reloaded).toEqual({ ok: true, changed: true });
    expect((await as(OLD_PASSWORD)).status).toBe(401);
    expect((await as(NEW_PASSWORD)).status).toBe(200);

    // A new certificate under the same file names: new connections get it.
    reloaded = nextReload(s.manager, (e) => e.ok && e.changed);
    writeFileSync(join(dir, "live.key"), readFileSync(server2.key));
    writeFileSync(join(dir, "live.crt"), readFileSync(server2.cert));
    await reloaded;
    const res = await as(NEW_PASSWORD, server2.cert);
    expect(res.status).toBe(200);
    expect(res.fingerprint).toBe(fingerprintOf(server2.cert));
    await expect(as(NEW_PASSWORD, server.cert)).rejects.toThrow(/self[- ]signed|certificate/i);

    // A broken file: logged, and the configuration in force stays.
    reloaded = nextReload(s.manager);
    writeFileSync(path, `${live}basic_auth_users: [\n`);
    const failed = await reloaded;
    expect(failed.ok).toBe(false);
    expect(failed.error).toMatch(/not valid YAML/);
    expect(s.logs()).toContain("keeping the previous configuration");
    expect((await as(NEW_PASSWORD, server2.cert)).status).toBe(200);

    // Turning TLS off needs a restart: refused, TLS stays on.
    reloaded = nextReload(s.manager);
    writeFileSync(path, `basic_auth_users:\n  prometheus: ${oldHash}\n`);
    expect((await reloaded).error).toMatch(/needs a restart/);
    expect((await as(NEW_PASSWORD, server2.cert)).status).toBe(200);

    // Fixed again: applied.
    reloaded = nextReload(s.manager);
    writeFileSync(path, `${live}basic_auth_users:\n  prometheus: ${oldHash}\n`);
    expect(await reloaded).toEqual({ ok: true, changed: true });
    expect((await as(OLD_PASSWORD, server2.cert)).status).toBe(200);
  });

  it("switches the client-certificate policy of new connections", async () => {
    const path = writeConfig("policy.yml", tlsBlock());
    const s = await serveWith(path);
    s.manager.watch();
    const plain = () => get(s.port, { ca: server.cert, path: "/healthz" });
    expect((await plain()).status).toBe(200);
    const reloaded = nextReload(s.manager);
    writeFileSync(path, tlsBlock("  client_ca_file: client-ca.crt\n  client_auth_type: RequireAndVerifyClientCert\n"));
    expect((await reloaded).ok).toBe(true);
    await expect(plain()).rejects.toThrow();
    expect((await get(s.port, { ca: server.cert, path: "/healthz", client: trustedClient })).status).toBe(200);
  });
});

describe("basic auth and the admin routes' bearer token", () => {
  const users = `basic_auth_users:\n  prometheus: ${oldHash}\n`;

  it("refuses to start when both would guard one listener", async () => {
    const path = writeConfig("conflict.yml", users);
    await expect(serveWith(path, { env: { ADMIN_TOKEN }, listen: false })).rejects.toThrow(/--admin.listen-address/);
  });

  it("serves the admin routes on their own listener behind the bearer token only", async () => {
    const path = writeConfig("split.yml", users);
    const main = await serveWith(path, { env: { ADMIN_TOKEN }, routes: "main", listen: false });
    const admin = await serveWith(path, { env: { ADMIN_TOKEN }, routes: "admin", listen: false });
    expect((await main.app.inject({ url: "/metrics" })).statusCode).toBe(401);
    expect(
      (await main.app.inject({ url: "/metrics", headers: { authorization: basic("prometheus", OLD_PASSWORD) } })).statusCode,
    ).toBe(200);
    const prune = (authorization: string) =>
      admin.app.inject({
        method: "POST",
        url: "/admin/prune",
        headers: { authorization, "content-type": "application/json" },
        payload: JSON.stringify({ dryRun: true }),
      });
    const wrong = await prune(`Bearer ${ADMIN_TOKEN}x`);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers["www-authenticate"]).toMatch(/^Bearer/);
    // Past authentication: the prune itself fails for want of containerd.
    expect((await prune(`Bearer ${ADMIN_TOKEN}`)).statusCode).toBe(502);
  });

  it("applies basic auth to the admin routes when no token is configured (they answer 403 behind it)", async () => {
    const path = writeConfig("no-token.yml", users);
    const s = await serveWith(path, { listen: false });
    expect((await s.app.inject({ method: "POST", url: "/admin/prune" })).statusCode).toBe(401);
    const res = await s.app.inject({
      method: "POST",
      url: "/admin/prune",
      headers: { authorization: basic("prometheus", OLD_PASSWORD) },
    });
    expect(res.statusCode).toBe(403);
  });

  it("refuses a reload that would add users to a listener serving the admin routes", async () => {
    const path = writeConfig("later.yml", "");
    const s = await serveWith(path, { env: { ADMIN_TOKEN }, listen: false });
    s.manager.watch();
    const reloaded = nextReload(s.manager);
    writeFileSync(path, users);
    expect((await reloaded).error).toMatch(/--admin.listen-address/);
    expect((await s.app.inject({ url: "/healthz" })).statusCode).toBe(200);
  });
});
