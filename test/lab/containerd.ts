// A private containerd daemon: everything it owns (root, state, sockets, opt, gate script, log)
// lives in one fresh temporary directory, so several labs can run side by side with the
// system's own containerd and with each other.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { onExit } from "./cleanup.js";
import { run } from "./exec.js";
import { installGate } from "./gate.js";
import { tail } from "./logs.js";
import { overlayWorks, unmountUnder, unmountUnderSync } from "./mounts.js";
import { daemonPath, selectRuntimes, type ContainerdRuntime } from "./runtimes.js";
import { killShims, killShimsSync } from "./shims.js";
import { spawnLogged, terminate, terminateSync, isAlive, kill, type Background } from "./processes.js";
import { GiveUp, waitFor } from "./wait.js";

export interface ContainerdOptions {
  /** Parent directory; a fresh temporary directory is created inside it. */
  dir: string;
  /** containerd log level (info keeps the log readable; debug shows every gRPC call). */
  logLevel?: "debug" | "info" | "warn";
  /** Bytes the unpack gate lets through before holding (gate.ts). */
  gatePassBytes?: number;
  startTimeoutMs?: number;
  /** Which build to run (default: the one LAB_CONTAINERD selects, runtimes.ts). */
  runtime?: ContainerdRuntime;
  /**
   * Serve CRI (default: off): pulls into `k8s.io` as the kubelet asks for them, from the
   * registries described in `registryHosts` (cri.ts), and pod sandboxes on the node's network
   * (CNI has no config) whose pause container is `sandboxImage`.
   */
  cri?: { sandboxImage: string };
}

export interface Containerd {
  readonly dir: string;
  readonly socket: string;
  readonly root: string;
  readonly state: string;
  readonly logFile: string;
  readonly configFile: string;
  /** CRI's registry config_path: one `<host:port>/hosts.toml` per registry (with `cri` only). */
  readonly registryHosts: string;
  readonly runtime: ContainerdRuntime;
  /** The ctr of the same build (CtrTarget). */
  readonly ctrPath: string;
  /** The version the daemon reports (Version API), e.g. "1.7.24~ds1" or "2.1.9+unknown". */
  readonly reportedVersion: string;
  /** Current pid (changes on restart). */
  readonly pid: number;
  /** Stops the daemon, unmounts everything below `dir` and removes it. Idempotent. */
  stop(): Promise<void>;
  /** Stops the process only (SIGTERM, or SIGKILL with `crash`) and starts it again on the same root and socket. */
  restart(options?: { crash?: boolean }): Promise<void>;
}

// Longest path a unix socket address can hold (sun_path is 108 bytes including the NUL).
const MAX_SOCKET_PATH = 107;

export async function startContainerd(options: ContainerdOptions): Promise<Containerd> {
  mkdirSync(options.dir, { recursive: true });
  const dir = mkdtempSync(join(options.dir, "containerd-"));
  const paths = layout(dir);
  const runtime = options.runtime ?? selectRuntimes().containerd;
  try {
    await checkEnvironment(dir, paths.socket);
    const gateToml = installGate(dir, options.gatePassBytes);
    const config = runtime.major === 2 ? configTomlV3 : configTomlV2;
    writeFileSync(paths.configFile, config(paths, options.logLevel ?? "info", gateToml, options.cri));
    return await supervise(paths, runtime, options.startTimeoutMs ?? 20_000);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

interface Paths {
  dir: string;
  socket: string;
  root: string;
  state: string;
  opt: string;
  tmp: string;
  logFile: string;
  configFile: string;
  registryHosts: string;
  cni: string;
}

function layout(dir: string): Paths {
  return {
    dir,
    socket: join(dir, "containerd.sock"),
    root: join(dir, "root"),
    state: join(dir, "state"),
    opt: join(dir, "opt"),
    tmp: join(dir, "tmp"),
    logFile: join(dir, "containerd.log"),
    configFile: join(dir, "config.toml"),
    registryHosts: join(dir, "certs.d"),
    cni: join(dir, "cni"),
  };
}

async function checkEnvironment(dir: string, socket: string): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the containerd lab must run as root (containerd mounts overlays)");
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) throw new Error(`socket path too long for a unix socket: ${socket}`);
  if (!(await overlayWorks(dir))) {
    throw new Error(`overlayfs cannot be mounted in ${dir} (overlay on overlay?); pass a dir on a real filesystem, e.g. /var/tmp`);
  }
}

/** containerd 1.x: config version 2. */
function configTomlV2(p: Paths, logLevel: string, gateToml: string, cri: ContainerdOptions["cri"]): string {
  const q = JSON.stringify; // TOML basic strings accept JSON string escapes
  // CRI only when asked for: it creates `k8s.io`. NRI is off by default on 1.x; disabled anyway
  // so the lab never touches the host-wide NRI socket.
  const disabled = cri ? ["io.containerd.nri.v1.nri"] : ["io.containerd.grpc.v1.cri", "io.containerd.nri.v1.nri"];
  const criToml = !cri
    ? ""
    : `
# The streaming server on a free port (the default 10010 would clash between labs), CNI in the lab.
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  sandbox_image = ${q(cri.sandboxImage)}
  # The pause container asks for oom_score_adj -998, which a machine without CAP_SYS_RESOURCE to spare refuses.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ${q(p.registryHosts)}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(join(p.cni, "bin"))}
    conf_dir = ${q(join(p.cni, "net.d"))}
`;
  return `# generated by test/lab/containerd.ts
version = 2
root = ${q(p.root)}
state = ${q(p.state)}
disabled_plugins = ${q(disabled)}
${criToml}
${commonSections(p, logLevel)}

# The default (/opt/containerd) is outside the lab directory.
[plugins."io.containerd.internal.v1.opt"]
  path = ${q(p.opt)}

${gateToml}
`;
}

/**
 * containerd 2.x: config version 3. CRI is split into several plugins (ids from
 * `containerd config default` of 2.1); NRI is on by default and listens on the host-wide
 * /var/run/nri/nri.sock, which a lab must never take from the host.
 */
function configTomlV3(p: Paths, logLevel: string, gateToml: string, cri: ContainerdOptions["cri"]): string {
  const q = JSON.stringify;
  const criPlugins = [
    "io.containerd.grpc.v1.cri",
    "io.containerd.cri.v1.images",
    "io.containerd.cri.v1.runtime",
    "io.containerd.podsandbox.controller.v1.podsandbox",
  ];
  const disabled = [...(cri ? [] : criPlugins), "io.containerd.nri.v1.nri"];
  const criToml = !cri
    ? ""
    : `
[plugins."io.containerd.cri.v1.images".registry]
  config_path = ${q(p.registryHosts)}

[plugins."io.containerd.cri.v1.images".pinned_images]
  sandbox = ${q(cri.sandboxImage)}

# The pause container asks for oom_score_adj -998, which a machine without CAP_SYS_RESOURCE to spare refuses.
[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true

[plugins."io.containerd.cri.v1.runtime".cni]
  bin_dirs = [${q(join(p.cni, "bin"))}]
  conf_dir = ${q(join(p.cni, "net.d"))}

# The streaming server on a free port (the default 10010 would clash between labs).
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
`;
  return `# generated by test/lab/containerd.ts
version = 3
root = ${q(p.root)}
state = ${q(p.state)}
temp = ${q(p.tmp)}
disabled_plugins = ${q(disabled)}
${criToml}
${commonSections(p, logLevel)}

# The defaults (/opt/containerd) are outside the lab directory.
[plugins."io.containerd.internal.v1.opt"]
  path = ${q(p.opt)}

${gateToml}
`;
}

function commonSections(p: Paths, logLevel: string): string {
  const q = JSON.stringify;
  return `[grpc]
  address = ${q(p.socket)}

[ttrpc]
  address = ${q(`${p.socket}.ttrpc`)}

[debug]
  address = ""
  level = ${q(logLevel)}

[metrics]
  address = ""`;
}

/** Runs the daemon, restarting and stopping it on request; registers an exit-time cleanup. */
async function supervise(paths: Paths, runtime: ContainerdRuntime, startTimeoutMs: number): Promise<Containerd> {
  let daemon = await launch(paths, runtime, startTimeoutMs);
  const reportedVersion = await serverVersion(paths, runtime);
  let stopping: Promise<void> | undefined;
  const unregister = onExit(() => {
    terminateSync(daemon.pid);
    killShimsSync(paths.socket);
    unmountUnderSync(paths.dir);
    rmSync(paths.dir, { recursive: true, force: true });
  });

  return {
    ...paths,
    runtime,
    ctrPath: runtime.ctr,
    reportedVersion,
    get pid() {
      return daemon.pid;
    },
    stop() {
      stopping ??= (async () => {
        unregister();
        await terminate(daemon.pid);
        // Shims outlive containerd by design; a lab's containers must not outlive the lab.
        await killShims(paths.socket);
        await unmountUnder(paths.dir);
        rmSync(paths.dir, { recursive: true, force: true });
      })();
      return stopping;
    },
    async restart(options = {}) {
      if (stopping) throw new Error("containerd lab already stopped");
      await (options.crash ? kill(daemon.pid) : terminate(daemon.pid));
      daemon = await launch(paths, runtime, startTimeoutMs);
    },
  };
}

async function launch(paths: Paths, runtime: ContainerdRuntime, timeoutMs: number): Promise<Background> {
  // The shim is found on PATH: the selected version's own containerd-shim-runc-v2 comes first.
  const env = { ...process.env, PATH: daemonPath(runtime) };
  const daemon = spawnLogged(runtime.containerd, ["--config", paths.configFile], paths.logFile, { env });
  try {
    await waitFor(
      `containerd to answer on ${paths.socket}`,
      async () => {
        if (!isAlive(daemon.pid)) throw new GiveUp("containerd exited");
        await run(runtime.ctr, ["--address", paths.socket, "--connect-timeout", "1s", "version"], { timeoutMs: 5_000 });
        return true;
      },
      { timeoutMs, intervalMs: 100, describe: () => `containerd log (tail):\n${tail(paths.logFile, 30)}` },
    );
  } catch (error) {
    await terminate(daemon.pid, 1_000);
    throw error;
  }
  return daemon;
}

/** The Server section of `ctr version`: "Version: 1.7.24~ds1". */
async function serverVersion(paths: Paths, runtime: ContainerdRuntime): Promise<string> {
  const out = await run(runtime.ctr, ["--address", paths.socket, "version"], { timeoutMs: 5_000 });
  const server = out.slice(out.indexOf("Server:"));
  const version = /Version:\s*(\S+)/.exec(server)?.[1];
  if (!version) throw new Error(`cannot read the server version from \`ctr version\`:\n${out}`);
  if (!version.startsWith(runtime.version)) {
    throw new Error(`the lab asked for containerd ${runtime.version} but ${runtime.containerd} reports ${version}`);
  }
  return version;
}
