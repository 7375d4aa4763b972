import { type ChildProcess, execFile, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../lab/ports.js";
import { waitFor } from "../lab/wait.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const MAIN = ["--import", "tsx", "src/cli/main.ts"];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The command as a user runs it, from the source tree; never throws on a non-zero exit. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, options: { uid?: number; gid?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...MAIN, ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 16 << 20, ...options },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export interface Server {
  base: string;
  port: number;
  child: ChildProcess;
  /** Everything it wrote to stderr so far. */
  log: () => string;
  stop: () => Promise<void>;
}

/** `serve` on a free loopback port, once /healthz answers. */
export async function startServer(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [...MAIN, "serve", `--web.listen-address=127.0.0.1:${port}`, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  try {
    await waitFor("the exporter to listen", async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok === true, {
      timeoutMs: 30_000,
      describe: () => stderr,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { base, port, child, log: () => stderr, stop };
}

/** The non-empty lines of a log. */
export const lines = (text: string) => text.split("\n").filter((l) => l.trim() !== "");

/** One logfmt line as key/value pairs (quoted values unescaped). */
export function parseLogfmt(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [, key, quoted, bare] of line.matchAll(/([^\s=]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g)) {
    out[key as string] = quoted !== undefined ? quoted.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c)) : (bare as string);
  }
  return out;
}
