import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseByteSize } from "../../src/config/bytes.js";
import { nearest } from "../../src/config/suggest.js";
import { loadConfig, splitListenAddress } from "../../src/config/config.js";
import { envName, FLAGS, FlagError, Flags, helpText, parseArgs } from "../../src/config/flags.js";

const configOf = (argv: string[], env: NodeJS.ProcessEnv = {}) => loadConfig(new Flags(parseArgs(argv, env)), env);

describe("flags", () => {
  it("defaults to serve with the documented defaults", () => {
    const parsed = parseArgs([], {});
    expect(parsed.command).toBe("serve");
    const config = configOf([]);
    expect(config.listenAddress).toBe(":9977");
    expect(config.containerdAddress).toBe("/run/containerd/containerd.sock");
    expect(config.policy).toEqual({ leaseStaleAfterMs: 3_600_000, ingestIdleAfterMs: 600_000 });
    expect(config.namespaces).toEqual([]);
    expect(config.adminToken).toBeUndefined();
  });

  it("takes --flag=value and --flag value, the command line winning over the environment twin", () => {
    const env = { [envName("lease.stale-after")]: "2h", [envName("containerd.namespaces")]: "moby, k8s.io" };
    const config = configOf(["--lease.stale-after", "30m", "--web.listen-address=127.0.0.1:1234"], env);
    expect(config.policy.leaseStaleAfterMs).toBe(1_800_000);
    expect(config.listenAddress).toBe("127.0.0.1:1234");
    expect(config.namespaces).toEqual(["moby", "k8s.io"]);
  });

  it("names every environment twin after its flag", () => {
    expect(envName("web.listen-address")).toBe("CONTAINERD_ORPHAN_EXPORTER_WEB_LISTEN_ADDRESS");
  });

  it("refuses unknown flags, flags of another command and bad values with the flag's name", () => {
    expect(() => parseArgs(["--nope"], {})).toThrow(/--nope/);
    expect(() => parseArgs(["df", "--web.listen-address=:1"], {})).toThrow(/does not apply to the df command/);
    expect(() => configOf(["--ingest.idle-after=soon"])).toThrow(/--ingest.idle-after/);
    expect(() => configOf(["--metrics.lease-detail-limit=-1"])).toThrow(FlagError);
    expect(() => parseArgs(["frobnicate"], {})).toThrow(/unknown command/);
  });

  it("accumulates repeated prune flags", () => {
    const flags = new Flags(parseArgs(["prune", "--namespace", "a", "--namespace=b", "--dry-run"], {}));
    expect(flags.strings("namespace")).toEqual(["a", "b"]);
    expect(flags.boolean("dry-run")).toBe(true);
  });

  it("reads the admin token from a file or ADMIN_TOKEN, never from argv", () => {
    const dir = mkdtempSync(join(tmpdir(), "flags-"));
    const file = join(dir, "token");
    writeFileSync(file, "s3cret-from-a-file\n");
    try {
      expect(configOf([`--admin.token-file=${file}`]).adminToken).toBe("s3cret-from-a-file");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(configOf([], { ADMIN_TOKEN: "from-the-environment" }).adminToken).toBe("from-the-environment");
    expect(() => configOf(["--admin.token-file=/nonexistent/token"])).toThrow(/cannot read/);
    expect(FLAGS.some((f) => f.name === "admin.token")).toBe(false);
  });

  it("lists every flag with its default in --help", () => {
    const help = helpText("1.2.3");
    for (const flag of FLAGS) {
      expect(help).toContain(`--${flag.name}`);
      if (flag.default) expect(help).toContain(JSON.stringify(flag.default));
    }
  });

  it("splits listen addresses", () => {
    expect(splitListenAddress(":9977")).toEqual({ host: "::", port: 9977 });
    expect(splitListenAddress("127.0.0.1:9978")).toEqual({ host: "127.0.0.1", port: 9978 });
    expect(splitListenAddress("[::1]:80")).toEqual({ host: "::1", port: 80 });
    expect(() => splitListenAddress("9977")).toThrow(/host:port/);
  });

  it("names the environment variable, not the flag, when a bad value came from it", () => {
    const variable = envName("lease.stale-after");
    expect(() => configOf([], { [variable]: "soon" })).toThrow(
      new RegExp(`^${variable} \\(the environment twin of --lease\\.stale-after\\): invalid duration "soon"`),
    );
    expect(() => configOf(["--lease.stale-after=soon"], { [variable]: "1h" })).toThrow(/^--lease\.stale-after: invalid duration "soon"/);
    expect(() => configOf([], { [envName("log.level")]: "loud" })).toThrow(
      'CONTAINERD_ORPHAN_EXPORTER_LOG_LEVEL (the environment twin of --log.level): "loud" is not one of debug, info, warn, error',
    );
    expect(() => configOf([], { [envName("metrics.lease-detail-limit")]: "ten" })).toThrow(/^CONTAINERD_ORPHAN_EXPORTER_METRICS_LEASE_DETAIL_LIMIT /);
  });

  it("suggests the nearest flag or command for a mistyped one", () => {
    expect(() => parseArgs(["--lease.stale-afer=1h"], {})).toThrow("unknown flag --lease.stale-afer; did you mean --lease.stale-after? (see --help)");
    expect(() => parseArgs(["--containerd.adress=/x"], {})).toThrow(/did you mean --containerd\.address\?/);
    expect(() => parseArgs(["--stale-after=1h"], {})).toThrow(/did you mean --lease\.stale-after\?/);
    expect(() => parseArgs(["--zzzzzzzz"], {})).toThrow("unknown flag --zzzzzzzz (see --help)");
    expect(() => parseArgs(["prnue"], {})).toThrow(/did you mean prune\?/);
    expect(nearest("log.formt", ["log.level", "log.format"])).toBe("log.format");
  });

  it("reads the log format, the prune schedule and byte sizes", () => {
    expect(configOf([])).toMatchObject({ logFormat: "logfmt", pruneIntervalMs: 0, pruneMinReclaimableBytes: 1 << 30 });
    expect(configOf(["--log.format=json", "--prune.interval=6h", "--prune.min-reclaimable=512MiB"])).toMatchObject({
      logFormat: "json",
      pruneIntervalMs: 6 * 3600_000,
      pruneMinReclaimableBytes: 512 << 20,
    });
    expect(() => configOf(["--log.format=pretty"])).toThrow('--log.format: "pretty" is not one of logfmt, json');
    expect(() => configOf(["--prune.min-reclaimable=lots"])).toThrow(/--prune\.min-reclaimable: invalid size "lots"/);
    expect(parseByteSize("0")).toBe(0);
    expect(parseByteSize("1.5GB")).toBe(1_500_000_000);
    expect(parseByteSize("10GiB")).toBe(10 * 1024 ** 3);
    expect(() => parseArgs(["df", "--prune.interval=1h"], {})).toThrow(/does not apply to the df command/);
  });
});
