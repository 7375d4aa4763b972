// Running short-lived commands. Errors carry the command line and stderr, because a bare
// "exit code 1" from ctr or umount says nothing about what went wrong.
import { execFile } from "node:child_process";

export interface RunOptions {
  timeoutMs?: number;
  input?: string;
  env?: NodeJS.ProcessEnv;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`\`${command}\` failed (exit ${exitCode ?? "signal"}): ${stderr.trim() || stdout.trim()}`);
    this.name = "CommandError";
  }
}

/** Runs a command to completion and resolves with its stdout. */
export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const command = [file, ...args].join(" ");
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: options.timeoutMs ?? 30_000, killSignal: "SIGKILL", maxBuffer: 64 << 20, encoding: "utf8", env: options.env ?? process.env },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const code = typeof error.code === "number" ? error.code : null;
        reject(new CommandError(command, code, stdout, stderr || String(error.message)));
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
