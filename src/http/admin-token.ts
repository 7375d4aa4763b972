import { createHash, timingSafeEqual } from "node:crypto";
import { type FSWatcher, readFileSync, statSync, watch } from "node:fs";
import { basename, dirname } from "node:path";
import type { FastifyBaseLogger } from "fastify";

export const TOKEN_MIN_BYTES = 16;
/** RFC 6750's b64token: what a client can send after "Bearer " and have compared as sent. */
const BEARER_CHARSET = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Why a token cannot be used (too short to resist guessing, or unable to ever match), or undefined. */
export function adminTokenProblem(token: string): string | undefined {
  if (Buffer.byteLength(token) < TOKEN_MIN_BYTES) {
    return `the token is ${Buffer.byteLength(token)} bytes; at least ${TOKEN_MIN_BYTES} are needed (e.g. openssl rand -hex 32)`;
  }
  if (!BEARER_CHARSET.test(token)) {
    return "the token has characters a bearer token cannot carry (allowed: A-Z a-z 0-9 - . _ ~ + / and trailing =), so no request could ever match it";
  }
  return undefined;
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * The admin bearer token in force. From --admin.token-file it is re-read when
 * the file changes (a Kubernetes Secret update swaps a symlink in its
 * directory, an operator replaces the file) and on SIGHUP; a file that became
 * unreadable, empty or unusable keeps the previous token and logs why.
 * Comparison is of SHA-256 digests with timingSafeEqual: constant time, and
 * the length of the token does not show either.
 */
export class AdminToken {
  private value: Buffer | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    token: string | undefined,
    private readonly file: string = "",
    private readonly log?: FastifyBaseLogger,
  ) {
    this.value = token === undefined ? undefined : digest(token);
  }

  get enabled(): boolean {
    return this.value !== undefined;
  }

  matches(candidate: string): boolean {
    return this.value !== undefined && timingSafeEqual(digest(candidate), this.value);
  }

  /** Warns when the file can be read by others than its owner. */
  checkMode(): void {
    if (this.file === "") return;
    try {
      const mode = statSync(this.file).mode & 0o777;
      if (mode & 0o077) {
        this.log?.warn(
          { file: this.file, mode: mode.toString(8).padStart(4, "0") },
          `--admin.token-file ${this.file} is readable by group or others (mode ${mode.toString(8).padStart(4, "0")}); make it 0400 or 0600`,
        );
      }
    } catch {
      // unreadable now: the start already read it, the next reload will say what is wrong
    }
  }

  /** Re-reads the file. Returns whether the token in force is the file's. */
  reload(): boolean {
    if (this.file === "") return true;
    let token: string;
    try {
      token = readFileSync(this.file, "utf8").trim();
    } catch (error) {
      return this.refuse(`cannot read it: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (token === "") return this.refuse("it is empty");
    const problem = adminTokenProblem(token);
    if (problem) return this.refuse(problem);
    const next = digest(token);
    if (this.value && timingSafeEqual(next, this.value)) return true;
    this.value = next;
    this.log?.info({ file: this.file }, "admin token reloaded from --admin.token-file");
    return true;
  }

  /** Watches the file's directory (replaced files and symlink swaps show there, not on the old inode). */
  watch(debounceMs = 250): void {
    if (this.file === "" || this.watcher) return;
    const name = basename(this.file);
    try {
      this.watcher = watch(dirname(this.file), { persistent: false }, (_event, changed) => {
        // Kubernetes swaps ..data, not the file's own entry: any change in the directory counts.
        if (changed !== null && changed !== name && !String(changed).startsWith("..")) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.reload(), debounceMs);
        this.timer.unref();
      });
      this.watcher.on("error", (error) => this.log?.warn({ err: error }, "cannot watch --admin.token-file; send SIGHUP to reload"));
    } catch (error) {
      this.log?.warn({ err: error }, "cannot watch --admin.token-file; send SIGHUP to reload");
    }
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }

  private refuse(reason: string): false {
    this.log?.error({ file: this.file }, `admin token reload failed, keeping the previous token: --admin.token-file ${this.file}: ${reason}`);
    return false;
  }
}
