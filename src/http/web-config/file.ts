import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createSecureContext, type SecureVersion, type TLSSocket } from "node:tls";
import { parse as parseYaml } from "yaml";
import { DEFAULT_CIPHER_SUITES, opensslCiphers, opensslCurves } from "./ciphers.js";

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
 *     cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]   # Go's names; TLS 1.2 and below
 *     curve_preferences: [X25519, CurveP256]
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
  "cipher_suites",
  "curve_preferences",
];
/** exporter-toolkit settings this exporter does not implement: refused rather than silently ignored. */
const UNSUPPORTED: Record<string, string> = {
  http_server_config: "http_server_config (HTTP/2 and response headers)",
  rate_limit: "rate_limit",
  "tls_server_config.cert": "inline certificates (tls_server_config.cert); use cert_file",
  "tls_server_config.key": "inline keys (tls_server_config.key); use key_file",
  "tls_server_config.client_ca": "inline client CAs (tls_server_config.client_ca); use client_ca_file",
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
  /** OpenSSL's cipher list: the TLS 1.3 suites, then cipher_suites (or the default) mapped from Go's names. */
  ciphers: string;
  /** OpenSSL's curve list from curve_preferences; undefined: Node's default. */
  ecdhCurve: string | undefined;
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
  const list = (key: string): string[] => {
    const value = rawTls[key] ?? [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) fail(`tls_server_config.${key} must be a list of names`);
    return value as string[];
  };
  const cipherSuites = list("cipher_suites");
  const curves = list("curve_preferences");
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
    const mapped = (key: string, map: () => string): string => {
      try {
        return map();
      } catch (error) {
        return fail(`tls_server_config.${key}: ${(error as Error).message}`);
      }
    };
    tls = {
      ciphers: mapped("cipher_suites", () => opensslCiphers(cipherSuites.length ? cipherSuites : DEFAULT_CIPHER_SUITES)),
      ecdhCurve: curves.length ? mapped("curve_preferences", () => opensslCurves(curves)) : undefined,
      certFile: resolve(base, certFile),
      keyFile: resolve(base, keyFile),
      clientCaFile: clientCaFile === "" ? undefined : resolve(base, clientCaFile),
      clientAuthType: authType as ClientAuthType,
      minVersion: min,
      maxVersion: max,
      preferServerCipherSuites: prefer as boolean,
    };
  } else if (minVersion !== "" || maxVersion !== "" || cipherSuites.length || curves.length) {
    fail("tls_server_config: min_version/max_version/cipher_suites/curve_preferences given without cert_file and key_file");
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
  ciphers: string;
  ecdhCurve: string | undefined;
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
      ciphers: t.ciphers,
      ecdhCurve: t.ecdhCurve,
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

export function secureContextOptions(tls: TlsMaterial) {
  return {
    cert: tls.cert,
    key: tls.key,
    ...(tls.ca ? { ca: tls.ca } : {}),
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
    honorCipherOrder: tls.honorCipherOrder,
    ciphers: tls.ciphers,
    ...(tls.ecdhCurve ? { ecdhCurve: tls.ecdhCurve } : {}),
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

