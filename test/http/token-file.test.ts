import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../lab/wait.js";
import { startTestApp } from "../support/app.js";
import { type ExporterProcess, startExporter } from "../support/exporter-process.js";

// The token file as a Kubernetes Secret or an operator rotates it: replaced under the running
// exporter, picked up without a restart; a rotation to an unusable token keeps the old one.
const OLD = "old-token-0123456789abcdef";
const NEW = "new-token-fedcba9876543210";
let dir: string;
let file: string;
let exporter: ExporterProcess;

/** Replaces the file the way editors and kubelet do: a new file renamed over the old one. */
function replace(token: string): void {
  const next = join(dir, ".token.next");
  writeFileSync(next, `${token}\n`, { mode: 0o600 });
  renameSync(next, file);
}

const prune = (token: string) =>
  fetch(`${exporter.base}/admin/prune`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ dryRun: true }),
  }).then((res) => res.status);
// No containerd: a token that is accepted gets as far as the prune (502), a refused one 401.
const ACCEPTED = 502;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "token-file-"));
  file = join(dir, "token");
  writeFileSync(file, `${OLD}\n`);
  chmodSync(file, 0o644);
  exporter = await startExporter([
    "--containerd.address=/nonexistent/containerd.sock",
    `--admin.token-file=${file}`,
    "--containerd.timeout=1s",
  ]);
}, 40_000);
afterAll(async () => {
  await exporter?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("--admin.token-file", () => {
  it("warns at start when the file is readable by group or others", () => {
    expect(exporter.stderr()).toMatch(/is readable by group or others \(mode 0644\)/);
  });

  it("takes a replaced file's token without a restart", async () => {
    expect(await prune(OLD)).toBe(ACCEPTED);
    replace(NEW);
    await waitFor("the new token to be accepted", async () => (await prune(NEW)) === ACCEPTED, { timeoutMs: 10_000, intervalMs: 100 });
    expect(await prune(OLD)).toBe(401);
    expect(exporter.stderr()).toContain("admin token reloaded");
  });

  it("keeps the token in force when the file is rotated to one too short, and says why", async () => {
    replace("short");
    await waitFor("the refusal to be logged", () => exporter.stderr().includes("admin token reload failed"), { timeoutMs: 10_000 });
    expect(exporter.stderr()).toMatch(/keeping the previous token: .* 5 bytes; at least 16/);
    expect(await prune("short")).toBe(401);
    expect(await prune(NEW)).toBe(ACCEPTED);
  });

  it("re-reads it on SIGHUP", async () => {
    replace(OLD);
    exporter.child.kill("SIGHUP");
    await waitFor("the SIGHUP to be handled", () => /SIGHUP received: admin token reloaded/.test(exporter.stderr()), { timeoutMs: 10_000 });
    expect(await prune(OLD)).toBe(ACCEPTED);
    expect(exporter.child.exitCode).toBeNull();
  });
});

describe("tokens that cannot be used", () => {
  it.each([
    ["shorter than 16 bytes", "s3cret", /ADMIN_TOKEN: the token is 6 bytes; at least 16/],
    ["with a space, which no Bearer header can carry", "correct horse battery staple", /characters a bearer token cannot carry/],
    ["with characters outside the bearer charset", "token-with-ünïcode-chars", /characters a bearer token cannot carry/],
  ])("refuses a token %s at start", async (_name, token, message) => {
    await expect(startTestApp([], { ADMIN_TOKEN: token })).rejects.toThrow(message);
  });
});
