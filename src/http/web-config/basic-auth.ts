import { createHash } from "node:crypto";
import bcrypt from "bcryptjs";
import { createLimiter } from "../../util/limit.js";

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

