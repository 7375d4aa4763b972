import { spawnSync } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { dirname } from "node:path";
import * as grpc from "@grpc/grpc-js";

export const USUAL_SOCKETS = [
  "/run/containerd/containerd.sock",
  "/run/docker/containerd/containerd.sock",
  "/run/k3s/containerd/containerd.sock",
];

/** A failed containerd call, with a message that says what to do about it. */
export class ContainerdError extends Error {
  constructor(
    message: string,
    readonly code: grpc.status,
    readonly call: string,
    readonly namespace?: string,
  ) {
    super(message);
    this.name = "ContainerdError";
  }
}

/** containerd did not answer at all: an operation refused to start (the prune), not a failed call. */
export class ContainerdDownError extends ContainerdError {
  constructor(message: string) {
    super(message, grpc.status.UNAVAILABLE, "Namespaces/List");
    this.name = "ContainerdDownError";
  }
}

export interface CallContext {
  call: string;
  namespace?: string;
  socketPath: string;
  budgetMs: number;
}

function describeCall(ctx: CallContext): string {
  return ctx.namespace === undefined ? ctx.call : `${ctx.call} (namespace ${ctx.namespace})`;
}

const DOCKER_API_SOCKETS = ["/var/run/docker.sock", "/run/docker.sock"];

/** The nearest directory on the way to `path` that this process may not enter, if any. */
function untraversableDirectory(path: string): string | undefined {
  const dirs: string[] = [];
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    dirs.unshift(dir);
    if (dir === dirname(dir)) break;
  }
  return dirs.find((dir) => {
    try {
      accessSync(dir, constants.X_OK);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "EACCES";
    }
  });
}

/** " (mode 0700, owner uid 0)" when the directory can be looked at, else nothing. */
function modeOf(dir: string): string {
  try {
    const stat = statSync(dir);
    return ` (mode ${(stat.mode & 0o777).toString(8).padStart(4, "0")}, owner uid ${stat.uid})`;
  } catch {
    return "";
  }
}

function whoAmI(): string {
  return typeof process.getuid === "function" ? `uid ${process.getuid()}` : "this user";
}

/** Why a unix socket cannot be used, or undefined when it looks fine. */
export function diagnoseSocket(path: string): string | undefined {
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EACCES") {
      const dir = untraversableDirectory(path) ?? dirname(path);
      return (
        `permission denied on ${path}: ${whoAmI()} may not enter the directory ${dir}${modeOf(dir)}; ` +
        `run the exporter as root, or let it enter ${dir} and give it the socket's group (containerd's [grpc] gid)`
      );
    }
    return (
      `no containerd socket at ${path}: is containerd running? ` +
      `The usual sockets are ${USUAL_SOCKETS.join(", ")}; choose one with --containerd.address`
    );
  }
  if (!stat.isSocket()) return `${path} exists but is not a socket`;
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch {
    return (
      `permission denied on ${path}: the exporter must run as root or in the socket's group ` +
      `(gid ${stat.gid}, see containerd's [grpc] gid setting)`
    );
  }
  return undefined;
}

// Asks the socket for Docker's /_ping over HTTP/1.0 and prints the answer's head. Run in a
// child so that the (synchronous) error path can use it; only after a gRPC protocol error.
const HTTP_PROBE = `
const s = require("node:net").connect(process.argv[1]);
let head = "";
const done = () => { process.stdout.write(head.slice(0, 4096)); process.exit(0); };
s.setTimeout(1000, () => process.exit(2));
s.on("connect", () => s.write("GET /_ping HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n"));
s.on("data", (d) => { head += d; if (head.includes("\\r\\n\\r\\n")) done(); });
s.on("end", done);
s.on("error", () => process.exit(1));
`;

const httpProbes = new Map<string, string | null>();

/** The answer's status line and Server/Api-Version headers when the socket speaks HTTP/1, else null. */
export function probeHttp(path: string): string | null {
  const cached = httpProbes.get(path);
  if (cached !== undefined) return cached;
  const child = spawnSync(process.execPath, ["-e", HTTP_PROBE, path], { encoding: "utf8", timeout: 3000 });
  const head = child.status === 0 ? child.stdout : "";
  const answer = /^HTTP\/1\.[01] \d{3}/.test(head) ? head : null;
  httpProbes.set(path, answer);
  return answer;
}

/** A socket that answered gRPC's preface with HTTP/1: name what it is instead. */
function notContainerd(path: string): string | undefined {
  const head = probeHttp(path);
  if (head === null) return undefined;
  const server = /^server:\s*(.+?)\s*$/im.exec(head)?.[1];
  const docker = /^api-version:/im.test(head) || /docker/i.test(server ?? "") || DOCKER_API_SOCKETS.includes(path);
  if (docker) {
    return (
      `${path} is Docker's API socket (it answers HTTP${server ? `: ${server}` : ""}), not containerd's gRPC socket. ` +
      `Point --containerd.address at the containerd Docker uses: /run/containerd/containerd.sock when dockerd runs with ` +
      `--containerd=/run/containerd/containerd.sock (Debian's and Docker's own docker.service), else ` +
      `/run/docker/containerd/containerd.sock; \`ps -o args= -C dockerd\` shows which`
    );
  }
  return `${path} answers HTTP${server ? ` (${server})` : ""}, not gRPC: it is not containerd's socket; choose one with --containerd.address (usually ${USUAL_SOCKETS.join(", ")})`;
}

/**
 * Failures that are part of running (containerd down, a call refused): logged as
 * one line with their message. Anything else is a bug and keeps its stack.
 */
export function isExpectedError(error: unknown): boolean {
  return error instanceof ContainerdError || (error instanceof Error && (error as { expected?: unknown }).expected === true);
}

/**
 * The call's answer, or undefined when containerd says the object is not
 * there (removed meanwhile: a pull finished, a GC ran, someone else pruned).
 * Every other failure is thrown as it came.
 */
export async function ifFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof ContainerdError && error.code === grpc.status.NOT_FOUND) return undefined;
    throw error;
  }
}

export function toContainerdError(error: unknown, ctx: CallContext): ContainerdError {
  if (error instanceof ContainerdError) return error;
  const service = error as Partial<grpc.ServiceError>;
  const code = typeof service.code === "number" ? service.code : grpc.status.UNKNOWN;
  const details = service.details || (error instanceof Error ? error.message : String(error));
  const what = describeCall(ctx);
  let message: string;
  if (code === grpc.status.DEADLINE_EXCEEDED) {
    message = `containerd call ${what} did not answer within its ${(ctx.budgetMs / 1000).toFixed(1)}s budget`;
  } else if (code === grpc.status.UNAVAILABLE) {
    const socketProblem =
      diagnoseSocket(ctx.socketPath) ?? (/protocol error/i.test(details) ? notContainerd(ctx.socketPath) : undefined);
    message = socketProblem ?? `containerd at ${ctx.socketPath} is unavailable (${what}): ${details}`;
  } else {
    message = `containerd call ${what} failed: ${grpc.status[code] ?? code}: ${details}`;
  }
  return new ContainerdError(message, code, ctx.call, ctx.namespace);
}
