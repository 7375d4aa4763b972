// Running the real Docker CLI against the lab's dockerd from any test process: everything needed
// is in LabInfo.docker (plain data), the CLI gets DOCKER_HOST and a private DOCKER_CONFIG.
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { onExit } from "./cleanup.js";
import { dockerEnv, type DockerdInfo } from "./dockerd.js";
import { run } from "./exec.js";
import type { LabInfo } from "./info.js";
import { isAlive, track, type Background } from "./processes.js";
import { waitFor } from "./wait.js";

/** A lab with a dockerd (LAB_DOCKER set); throws a precise message otherwise. */
export function dockerOf(lab: Pick<LabInfo, "docker">): DockerdInfo {
  if (!lab.docker) throw new Error("this lab runs no dockerd: start the suite with LAB_DOCKER=26.1.5 or 28.5.2");
  return lab.docker;
}

/** `docker ...args` with DOCKER_HOST set: stdout, or a CommandError carrying stderr. */
export function docker(lab: Pick<LabInfo, "docker">, args: readonly string[], timeoutMs = 60_000): Promise<string> {
  const d = dockerOf(lab);
  return run(d.cli, args, { timeoutMs, env: dockerEnv(d.host, d.cliConfig) });
}

export interface DockerProcess extends Background {
  /** stdout and stderr so far. */
  output(): string;
  running(): boolean;
  /**
   * Ctrl-C: SIGINT to the CLI; then a piped stdin ends and an unread stdout is drained, since a
   * CLI blocked on a pipe does not act on the signal (with a file it would not be blocked).
   * Waits for the CLI to exit (SIGKILL after timeoutMs).
   */
  interrupt(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for a normal exit; rejects with the output when the CLI failed. */
  done(timeoutMs?: number): Promise<string>;
}

/** Starts a long-running Docker CLI command (pull, load, save); killed at exit if forgotten. */
export interface SpawnDockerOptions {
  /** "pipe" to feed the CLI's stdin (docker load). */
  stdin?: "pipe" | "ignore";
  /**
   * false: stdout is left unread, so the CLI blocks once the pipe is full (how a `docker save`
   * is held mid-stream). Default true: stdout is collected into output().
   */
  readStdout?: boolean;
}

export function spawnDocker(lab: Pick<LabInfo, "docker">, args: readonly string[], options: SpawnDockerOptions = {}): DockerProcess {
  const d = dockerOf(lab);
  const child = spawn(d.cli, args, { stdio: [options.stdin ?? "ignore", "pipe", "pipe"], env: dockerEnv(d.host, d.cliConfig) });
  const proc = track(child, "docker");
  let output = "";
  if (options.readStdout !== false) child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const unregister = onExit(() => {
    if (isAlive(proc.pid)) process.kill(proc.pid, "SIGKILL");
  });
  void proc.exited.then(unregister);
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    ...proc,
    output: () => output,
    running,
    async interrupt(timeoutMs = 15_000) {
      if (running()) {
        child.kill("SIGINT");
        // The signal first, the pipes a moment later: a CLI that reads its input from a file
        // (`docker load -i`) or writes to one sees only the signal, and so should the daemon,
        // rather than a truncated upload that ends cleanly.
        await Promise.race([proc.exited, sleep(500)]);
      }
      child.stdin?.end();
      if (options.readStdout === false) child.stdout?.resume();
      const timer = setTimeout(() => running() && child.kill("SIGKILL"), timeoutMs);
      try {
        return await proc.exited;
      } finally {
        clearTimeout(timer);
      }
    },
    async done(timeoutMs = 120_000) {
      await waitFor(`docker ${args.join(" ")} to finish`, () => !running(), { timeoutMs, intervalMs: 100, describe: () => output });
      const { code } = await proc.exited;
      if (code !== 0) throw new Error(`\`docker ${args.join(" ")}\` failed (exit ${code}): ${output.trim()}`);
      return output;
    },
  };
}
