import { createHash } from "node:crypto";
import { BcryptPool } from "./bcrypt-pool.js";

export const BASIC_REALM = 'Basic realm="containerd-orphan-exporter", charset="UTF-8"';
const CACHE_LIMIT = 256;
const MAX_HEADER_LENGTH = 4096;

/**
 * What one client address may spend on bcrypt: comparisons in flight at once,
 * and failed ones per window. Past either, its requests are refused (429)
 * without a comparison, so wrong-password floods cannot queue up ahead of a
 * valid login from another address.
 */
export const CLIENT_LIMITS = {
  inFlight: 2,
  failures: 10,
  windowMs: 60_000,
  /** Comparisons waiting for a worker, all clients together. */
  queue: 64,
  /** Addresses tracked at once; the oldest are forgotten first. */
  clients: 10_000,
};

export type BasicAuthResult =
  | { ok: true; user: string }
  | { ok: false; reason: string; /** Refused without a comparison: retry later (429). */ limited?: true };

interface ClientBudget {
  inFlight: number;
  failures: number;
  windowStart: number;
}

/**
 * exporter-toolkit's basic_auth_users check. A successful bcrypt comparison
 * is cached under a SHA-256 of user, hash and password (so a changed hash or
 * password misses the cache, and the cache holds no password), so a scrape
 * costs one hash, not one bcrypt. An unknown user is compared against a real
 * hash all the same so that timing does not tell which users exist; bcryptjs
 * compares the result in constant time. Comparisons run on a small pool of
 * worker threads, and each client address has a budget of them (CLIENT_LIMITS).
 */
export class BasicAuth {
  /** bcrypt comparisons started, for tests and to show the cache works. */
  comparisons = 0;
  private readonly successes = new Set<string>();
  private readonly pending = new Map<string, Promise<boolean>>();
  private readonly budgets = new Map<string, ClientBudget>();
  private readonly pool = new BcryptPool();

  constructor(private users: Map<string, string>) {}

  get enabled(): boolean {
    return this.users.size > 0;
  }

  setUsers(users: Map<string, string>): void {
    this.users = users;
    this.successes.clear();
  }

  close(): void {
    this.pool.close();
  }

  async verify(header: string | undefined, client = ""): Promise<BasicAuthResult> {
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
    const budget = this.budget(client);
    if (!comparison) {
      const refusal = this.overBudget(budget);
      if (refusal) return { ok: false, reason: refusal, limited: true };
      this.comparisons++;
      comparison = this.pool.compare(password, hash).finally(() => this.pending.delete(key));
      this.pending.set(key, comparison);
    }
    budget.inFlight++;
    let matches: boolean;
    try {
      matches = await comparison;
    } finally {
      budget.inFlight--;
    }
    if (!matches || known === undefined || this.users.get(user) !== hash) {
      budget.failures++;
      return { ok: false, reason: "wrong user or password" };
    }
    if (this.successes.size >= CACHE_LIMIT) this.successes.delete(this.successes.values().next().value as string);
    this.successes.add(key);
    return { ok: true, user };
  }

  private budget(client: string): ClientBudget {
    const now = Date.now();
    let budget = this.budgets.get(client);
    if (budget && now - budget.windowStart >= CLIENT_LIMITS.windowMs) {
      budget.failures = 0;
      budget.windowStart = now;
    }
    if (!budget) {
      if (this.budgets.size >= CLIENT_LIMITS.clients) this.budgets.delete(this.budgets.keys().next().value as string);
      budget = { inFlight: 0, failures: 0, windowStart: now };
      this.budgets.set(client, budget);
    }
    return budget;
  }

  private overBudget(budget: ClientBudget): string | undefined {
    if (budget.failures >= CLIENT_LIMITS.failures) return `too many failed logins from this address; try again within ${CLIENT_LIMITS.windowMs / 1000}s`;
    if (budget.inFlight >= CLIENT_LIMITS.inFlight) return "too many logins from this address at once";
    if (this.pool.waiting >= CLIENT_LIMITS.queue) return "too many password checks waiting";
    return undefined;
  }
}
