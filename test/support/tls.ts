import { execFileSync } from "node:child_process";
import { join } from "node:path";

/** `openssl` in `dir`: its output, or an error carrying openssl's stderr. */
export const opensslIn = (dir: string, ...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });

/** A new P-256 key, unencrypted: the `openssl req` options both certificate kinds use. */
export const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A self-signed certificate for 127.0.0.1 and localhost, as `<name>.crt` and `<name>.key` in `dir`. */
export function selfSignedCert(dir: string, name: string, cn = "localhost"): { cert: string; key: string } {
  opensslIn(dir, "req", "-x509", ...EC_KEY, "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "2", "-subj", `/CN=${cn}`,
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost");
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}
