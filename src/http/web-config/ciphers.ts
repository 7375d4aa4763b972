import { getCiphers } from "node:tls";

/**
 * exporter-toolkit's cipher_suites and curve_preferences take Go's names
 * (crypto/tls constants); Node's TLS takes OpenSSL's. As in Go, the list
 * applies to TLS 1.2 and below: TLS 1.3 suites are always all on.
 */
const GO_CIPHER_SUITES: Record<string, string> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: "AES128-SHA",
  TLS_RSA_WITH_AES_256_CBC_SHA: "AES256-SHA",
  TLS_RSA_WITH_AES_128_CBC_SHA256: "AES128-SHA256",
  TLS_RSA_WITH_AES_128_GCM_SHA256: "AES128-GCM-SHA256",
  TLS_RSA_WITH_AES_256_GCM_SHA384: "AES256-GCM-SHA384",
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: "DES-CBC3-SHA",
  TLS_RSA_WITH_RC4_128_SHA: "RC4-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: "ECDHE-ECDSA-AES128-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: "ECDHE-ECDSA-AES256-SHA",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: "ECDHE-RSA-AES128-SHA",
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: "ECDHE-RSA-AES256-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: "ECDHE-ECDSA-AES128-SHA256",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: "ECDHE-RSA-AES128-SHA256",
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: "ECDHE-ECDSA-AES128-GCM-SHA256",
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: "ECDHE-ECDSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: "ECDHE-RSA-AES256-GCM-SHA384",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_RC4_128_SHA: "ECDHE-ECDSA-RC4-SHA",
  TLS_ECDHE_RSA_WITH_RC4_128_SHA: "ECDHE-RSA-RC4-SHA",
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: "ECDHE-RSA-DES-CBC3-SHA",
};

/** Always on, as in Go; listed first so that TLS 1.3 clients get them. */
const TLS13_SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"];

/**
 * Without cipher_suites: ECDHE key exchange (forward secrecy) with AEAD
 * ciphers only. No RSA key exchange, no CBC, which Go's and Mozilla's
 * "intermediate" lists have also dropped.
 */
export const DEFAULT_CIPHER_SUITES = [
  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

const GO_CURVES: Record<string, string> = {
  CurveP256: "P-256",
  CurveP384: "P-384",
  CurveP521: "P-521",
  X25519: "X25519",
};

/** Node's `ciphers` string for Go suite names; throws naming the first one it cannot use. */
export function opensslCiphers(goNames: readonly string[]): string {
  const available = new Set(getCiphers().map((c) => c.toUpperCase()));
  const tls12 = goNames.map((name) => {
    if (TLS13_SUITES.includes(name)) return undefined; // accepted, as Go does, and always on anyway
    const openssl = GO_CIPHER_SUITES[name];
    if (!openssl) throw new Error(`unknown cipher suite ${JSON.stringify(name)}; Go's names are expected, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`);
    if (!available.has(openssl)) throw new Error(`cipher suite ${name} is not available in this build's OpenSSL`);
    return openssl;
  });
  return [...TLS13_SUITES, ...tls12.filter((c): c is string => c !== undefined)].join(":");
}

/** Node's `ecdhCurve` string for Go curve names. */
export function opensslCurves(goNames: readonly string[]): string {
  return goNames
    .map((name) => {
      const openssl = GO_CURVES[name];
      if (!openssl) throw new Error(`unknown curve ${JSON.stringify(name)}; one of ${Object.keys(GO_CURVES).join(", ")}`);
      return openssl;
    })
    .join(":");
}
