import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { Flags, parseArgs } from "../../src/config/flags.js";
import { ROOT } from "../support/cli.js";

// deploy/systemd: systemd's own checker accepts the unit, its hardening scores "OK", and its
// command line is one the exporter's flag parser takes, with the token from a credential.
const run = promisify(execFile);
const UNIT_NAME = "containerd-orphan-exporter.service";
const UNIT = readFileSync(join(ROOT, "deploy/systemd", UNIT_NAME), "utf8");
const INSTALLED = "/usr/bin/containerd-orphan-exporter";

/** The [Service] settings, continuation lines joined; repeated keys keep every value. */
function settings(unit: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const joined = unit.replace(/\\\n\s*/g, " ");
  for (const line of joined.split("\n")) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match) out.set(match[1] as string, [...(out.get(match[1] as string) ?? []), (match[2] as string).trim()]);
  }
  return out;
}

let dir: string;

beforeAll(() => {
  // The unit names the installed command; verify needs an executable there, so a copy of the
  // unit points at a stub in a temp dir. Everything else is checked as shipped.
  dir = mkdtempSync(join(tmpdir(), "systemd-unit-"));
  writeFileSync(join(dir, "containerd-orphan-exporter"), "#!/bin/sh\n");
  chmodSync(join(dir, "containerd-orphan-exporter"), 0o755);
  writeFileSync(join(dir, UNIT_NAME), UNIT.replaceAll(INSTALLED, join(dir, "containerd-orphan-exporter")));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the systemd unit", () => {
  it("passes systemd-analyze verify without a warning", async () => {
    const { stdout, stderr } = await run("systemd-analyze", ["verify", `./${UNIT_NAME}`], { cwd: dir });
    expect(`${stdout}${stderr}`).toBe("");
  });

  it("is hardened: no capability, read-only system, no new privileges, exposure OK", async () => {
    const s = settings(UNIT);
    expect(s.get("CapabilityBoundingSet")).toEqual([""]);
    expect(s.get("AmbientCapabilities")).toEqual([""]);
    expect(s.get("NoNewPrivileges")).toEqual(["yes"]);
    expect(s.get("ProtectSystem")).toEqual(["strict"]);
    expect(s.get("ProtectHome")).toEqual(["yes"]);
    expect(s.get("MemoryDenyWriteExecute")).toBeUndefined(); // V8's JIT needs writable code pages
    const { stdout } = await run("systemd-analyze", ["security", "--offline=yes", `./${UNIT_NAME}`], { cwd: dir });
    const exposure = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(stdout)?.[1]);
    expect(exposure).toBeLessThanOrEqual(2.5);
  });

  it("runs a command line the exporter accepts, with the admin token from a credential", () => {
    const s = settings(UNIT);
    expect(s.get("LoadCredential")).toEqual(["admin-token:/etc/containerd-orphan-exporter/admin-token"]);
    const [binary, ...args] = (s.get("ExecStart")?.[0] ?? "").split(/\s+/);
    expect(binary).toBe(INSTALLED);
    const credentials = mkdtempSync(join(dir, "credentials-"));
    writeFileSync(join(credentials, "admin-token"), "from-a-credential\n");
    const argv = args.map((a) => a.replace("${CREDENTIALS_DIRECTORY}", credentials));
    const parsed = parseArgs(argv, {});
    expect(parsed.command).toBe("serve");
    const config = loadConfig(new Flags(parsed), {});
    expect(config.adminToken).toBe("from-a-credential");
    expect(config.adminListenAddress).toBe("127.0.0.1:9978");
    expect(config.listenAddress).toBe(":9977");
    expect(config.containerdAddress).toBe("/run/containerd/containerd.sock");
  });
});
