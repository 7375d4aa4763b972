import { type ChildProcess, spawn } from "node:child_process";
import { freePort } from "../lab/ports.js";
import { GiveUp, waitFor } from "../lab/wait.js";

const ROOT = new URL("../..", import.meta.url).pathname;

/** The exporter as its own process (`serve`), for what only a process shows: signals, files, exit codes. */
export interface ExporterProcess {
  child: ChildProcess;
  base: string;
  /** stderr so far: the JSON log lines. */
  stderr(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export async function startExporter(flags: string[], env: NodeJS.ProcessEnv = {}): Promise<ExporterProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    // JSON lines, so that tests can read each record whole.
    ["--import", "tsx", "src/cli/main.ts", "serve", `--web.listen-address=127.0.0.1:${port}`, "--log.format=json", ...flags],
    { cwd: ROOT, env: { ...process.env, ADMIN_TOKEN: "", ...env }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  const running = { value: true };
  void exited.then(() => (running.value = false));
  await waitFor("the exporter to listen", async () => {
    if (!running.value) throw new GiveUp(`the exporter exited: ${stderr}`);
    return (await fetch(`${base}/healthz`).catch(() => undefined))?.ok;
  }, { timeoutMs: 30_000, describe: () => stderr });
  return {
    child,
    base,
    stderr: () => stderr,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
