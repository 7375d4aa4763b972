import { accessSync, constants, statSync } from "node:fs";
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

export interface CallContext {
  call: string;
  namespace?: string;
  socketPath: string;
  budgetMs: number;
}

function describeCall(ctx: CallContext): string {
  return ctx.namespace === undefined ? ctx.call : `${ctx.call} (namespace ${ctx.namespace})`;
}

/** Why a unix socket cannot be used, or undefined when it looks fine. */
export function diagnoseSocket(path: string): string | undefined {
  let stat;
  try {
    stat = statSync(path);
  } catch {
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
    const socketProblem = diagnoseSocket(ctx.socketPath);
    message = socketProblem ?? `containerd at ${ctx.socketPath} is unavailable (${what}): ${details}`;
  } else {
    message = `containerd call ${what} failed: ${grpc.status[code] ?? code}: ${details}`;
  }
  return new ContainerdError(message, code, ctx.call, ctx.namespace);
}
