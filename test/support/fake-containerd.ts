import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { type ContainerdProto, LOADER_OPTIONS, PROTO_FILES, protoDir } from "../../src/containerd/proto.js";

/**
 * An in-process containerd for faults the real daemon cannot be made to
 * produce on demand: slow calls, one namespace failing, huge lists, a daemon
 * that goes away and comes back. A grpc-js server on a unix socket, built from
 * the project's own proto files, serving the calls the exporter makes, with
 * data per namespace (chosen by the containerd-namespace header, as containerd
 * does), per-method delays and per-method (and namespace) errors, and
 * server-side counts of calls and of calls in flight.
 */

export type Labels = Record<string, string>;

export interface FakeLease {
  id: string;
  /** Epoch seconds. */
  createdAt?: number;
  labels?: Labels;
  resources?: { type: string; id: string }[];
}
export interface FakeBlob {
  digest: string;
  size: number;
  createdAt?: number;
  updatedAt?: number;
  labels?: Labels;
}
export interface FakeIngest {
  ref: string;
  offset: number;
  total?: number;
  expected?: string;
  startedAt?: number;
  updatedAt?: number;
}
export interface FakeSnapshot {
  name: string;
  parent?: string;
  kind?: "view" | "active" | "committed";
  createdAt?: number;
  updatedAt?: number;
  labels?: Labels;
  /** What Usage answers. */
  size?: number;
  inodes?: number;
}
export interface FakeImage {
  name: string;
  target: { digest: string; size: number; mediaType?: string };
  labels?: Labels;
  createdAt?: number;
  updatedAt?: number;
}
export interface FakeContainer {
  id: string;
  image?: string;
  snapshotter?: string;
  snapshotKey?: string;
  labels?: Labels;
  createdAt?: number;
}
export interface FakeNamespace {
  leases?: FakeLease[];
  content?: FakeBlob[];
  ingests?: FakeIngest[];
  /** By snapshotter. */
  snapshots?: Record<string, FakeSnapshot[]>;
  images?: FakeImage[];
  containers?: FakeContainer[];
}
export interface FakeData {
  version?: { version: string; revision: string };
  /** Snapshotter plugins that loaded (Introspection/Plugins); default ["overlayfs"]. */
  snapshotters?: string[];
  namespaces: Record<string, FakeNamespace>;
}

export const FAKE_METHODS = [
  "Namespaces/List",
  "Version/Version",
  "Introspection/Plugins",
  "Leases/List",
  "Leases/ListResources",
  "Leases/Create",
  "Leases/Delete",
  "Leases/AddResource",
  "Content/List",
  "Content/ListStatuses",
  "Content/Abort",
  "Snapshots/List",
  "Snapshots/Usage",
  "Images/List",
  "Containers/List",
] as const;
export type FakeMethod = (typeof FAKE_METHODS)[number];

export interface FakeFault {
  code: grpc.status;
  message?: string;
  /** Only calls for this namespace; every call when absent. */
  namespace?: string;
}

export interface FakeOptions {
  /** Reuse a socket path (to restart a daemon "in place"); a new temp dir when absent. */
  socketPath?: string;
  data?: FakeData;
  /** Items per message of the streaming lists (Content/List, Snapshots/List); containerd sends ~100. */
  pageSize?: number;
}

const SNAPSHOTTER_PLUGIN = "io.containerd.snapshotter.v1";

function timestamp(seconds: number | undefined): { seconds: string; nanos: number } | null {
  if (seconds === undefined) return null;
  const whole = Math.floor(seconds);
  return { seconds: String(whole), nanos: Math.round((seconds - whole) * 1e9) };
}

class CallError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

type AnyCall = grpc.ServerUnaryCall<Record<string, unknown>, unknown> | grpc.ServerWritableStream<Record<string, unknown>, unknown>;

/** Sleeps, unless the client gives up (deadline or cancel) first. */
function delay(ms: number, call: AnyCall): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      call.off("cancelled", done);
      resolve();
    }
    call.once("cancelled", done);
  });
}

export class FakeContainerd {
  /** Calls received, by "Service/Method" (server side: what containerd would see). */
  readonly calls = new Map<FakeMethod, number>();
  /** Calls being served right now, and the most ever at once, by method. */
  readonly inFlight = new Map<FakeMethod, number>();
  readonly maxInFlight = new Map<FakeMethod, number>();
  /** Milliseconds each call of a method waits before answering. */
  readonly delays = new Map<FakeMethod, number>();
  /** Errors a method answers with, for one namespace or all. */
  readonly faults = new Map<FakeMethod, FakeFault[]>();
  data: FakeData;
  readonly pageSize: number;
  private server: grpc.Server | undefined;

  private constructor(
    readonly socketPath: string,
    private readonly ownDir: string | undefined,
    options: FakeOptions,
  ) {
    this.data = options.data ?? { namespaces: {} };
    this.pageSize = options.pageSize ?? 100;
  }

  static async start(options: FakeOptions = {}): Promise<FakeContainerd> {
    const ownDir = options.socketPath ? undefined : mkdtempSync(join(tmpdir(), "fake-containerd-"));
    const fake = new FakeContainerd(options.socketPath ?? join(ownDir as string, "containerd.sock"), ownDir, options);
    await fake.listen();
    return fake;
  }

  /** The value of --containerd.address. */
  get address(): string {
    return this.socketPath;
  }

  count(method: FakeMethod): number {
    return this.calls.get(method) ?? 0;
  }

  setDelay(method: FakeMethod, ms: number): this {
    this.delays.set(method, ms);
    return this;
  }

  fail(method: FakeMethod, fault: FakeFault): this {
    this.faults.set(method, [...(this.faults.get(method) ?? []), fault]);
    return this;
  }

  /** Clears counts, delays and faults; keeps the data. */
  reset(): void {
    for (const map of [this.calls, this.inFlight, this.maxInFlight, this.delays, this.faults]) map.clear();
  }

  /** Stops answering at once (connections dropped) and removes the socket, like a daemon that died. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) server.forceShutdown();
    rmSync(this.socketPath, { force: true });
  }

  /** stop(), and removes the temp dir it created. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.ownDir) rmSync(this.ownDir, { recursive: true, force: true });
  }

  private async listen(): Promise<void> {
    const definition = protoLoader.loadSync(PROTO_FILES, { ...LOADER_OPTIONS, includeDirs: [protoDir()] });
    const proto = grpc.loadPackageDefinition(definition) as unknown as ContainerdProto;
    const s = proto.containerd.services;
    const server = new grpc.Server();
    server.addService(s.namespaces.v1.Namespaces.service, {
      List: this.unary("Namespaces/List", false, () => ({
        namespaces: Object.keys(this.data.namespaces).map((name) => ({ name, labels: {} })),
      })),
    });
    server.addService(s.version.v1.Version.service, {
      Version: this.unary("Version/Version", false, () => this.data.version ?? { version: "v1.7.99-fake", revision: "fake" }),
    });
    server.addService(s.introspection.v1.Introspection.service, {
      Plugins: this.unary("Introspection/Plugins", false, (_ns, req) => {
        const filters = (req.filters as string[] | undefined) ?? [];
        const plugins = (this.data.snapshotters ?? ["overlayfs"]).map((id) => ({
          type: SNAPSHOTTER_PLUGIN,
          id,
          exports: {},
          init_err: null,
        }));
        const types = filters.map((f) => /^type==(.*)$/.exec(f)?.[1]).filter((t): t is string => t !== undefined);
        return { plugins: types.length ? plugins.filter((p) => types.includes(p.type)) : plugins };
      }),
    });
    server.addService(s.leases.v1.Leases.service, {
      List: this.unary("Leases/List", true, (ns) => ({
        leases: (ns.leases ?? []).map((l) => ({ id: l.id, created_at: timestamp(l.createdAt ?? 0), labels: l.labels ?? {} })),
      })),
      ListResources: this.unary("Leases/ListResources", true, (ns, req) => {
        const lease = (ns.leases ?? []).find((l) => l.id === req.id);
        if (!lease) throw new CallError(grpc.status.NOT_FOUND, `lease "${String(req.id)}": not found`);
        return { resources: lease.resources ?? [] };
      }),
      Create: this.unary("Leases/Create", true, (ns, req) => {
        const leases = (ns.leases ??= []);
        if (leases.some((l) => l.id === req.id)) throw new CallError(grpc.status.ALREADY_EXISTS, `lease "${String(req.id)}": already exists`);
        const lease: FakeLease = { id: req.id as string, createdAt: Date.now() / 1000, labels: (req.labels as Labels) ?? {} };
        leases.push(lease);
        return { lease: { id: lease.id, created_at: timestamp(lease.createdAt), labels: lease.labels } };
      }),
      Delete: this.unary("Leases/Delete", true, (ns, req) => {
        const index = (ns.leases ?? []).findIndex((l) => l.id === req.id);
        if (index === -1) throw new CallError(grpc.status.NOT_FOUND, `lease "${String(req.id)}": not found`);
        ns.leases?.splice(index, 1);
        return {};
      }),
      AddResource: this.unary("Leases/AddResource", true, (ns, req) => {
        const lease = (ns.leases ?? []).find((l) => l.id === req.id);
        if (!lease) throw new CallError(grpc.status.NOT_FOUND, `lease "${String(req.id)}": not found`);
        (lease.resources ??= []).push(req.resource as { type: string; id: string });
        return {};
      }),
    });
    server.addService(s.content.v1.Content.service, {
      List: this.stream("Content/List", (ns) =>
        (ns.content ?? []).map((b) => ({
          digest: b.digest,
          size: String(b.size),
          created_at: timestamp(b.createdAt ?? 0),
          updated_at: timestamp(b.updatedAt ?? b.createdAt ?? 0),
          labels: b.labels ?? {},
        })),
      ),
      ListStatuses: this.unary("Content/ListStatuses", true, (ns) => ({
        statuses: (ns.ingests ?? []).map((i) => ({
          ref: i.ref,
          offset: String(i.offset),
          total: String(i.total ?? 0),
          expected: i.expected ?? "",
          started_at: timestamp(i.startedAt ?? 0),
          updated_at: timestamp(i.updatedAt ?? i.startedAt ?? 0),
        })),
      })),
      Abort: this.unary("Content/Abort", true, (ns, req) => {
        const index = (ns.ingests ?? []).findIndex((i) => i.ref === req.ref);
        if (index === -1) throw new CallError(grpc.status.NOT_FOUND, `ingest "${String(req.ref)}": not found`);
        ns.ingests?.splice(index, 1);
        return {};
      }),
    });
    server.addService(s.snapshots.v1.Snapshots.service, {
      List: this.stream("Snapshots/List", (ns, req) =>
        (ns.snapshots?.[req.snapshotter as string] ?? []).map((snap) => ({
          name: snap.name,
          parent: snap.parent ?? "",
          kind: (snap.kind ?? "committed").toUpperCase(),
          created_at: timestamp(snap.createdAt ?? 0),
          updated_at: timestamp(snap.updatedAt ?? snap.createdAt ?? 0),
          labels: snap.labels ?? {},
        })),
      ),
      Usage: this.unary("Snapshots/Usage", true, (ns, req) => {
        const snap = (ns.snapshots?.[req.snapshotter as string] ?? []).find((x) => x.name === req.key);
        if (!snap) throw new CallError(grpc.status.NOT_FOUND, `snapshot ${String(req.key)} does not exist: not found`);
        return { size: String(snap.size ?? 0), inodes: String(snap.inodes ?? 0) };
      }),
    });
    server.addService(s.images.v1.Images.service, {
      List: this.unary("Images/List", true, (ns) => ({
        images: (ns.images ?? []).map((i) => ({
          name: i.name,
          labels: i.labels ?? {},
          target: {
            media_type: i.target.mediaType ?? "application/vnd.oci.image.index.v1+json",
            digest: i.target.digest,
            size: String(i.target.size),
          },
          created_at: timestamp(i.createdAt ?? 0),
          updated_at: timestamp(i.updatedAt ?? i.createdAt ?? 0),
        })),
      })),
    });
    server.addService(s.containers.v1.Containers.service, {
      List: this.unary("Containers/List", true, (ns) => ({
        containers: (ns.containers ?? []).map((c) => ({
          id: c.id,
          image: c.image ?? "",
          snapshotter: c.snapshotter ?? "",
          snapshot_key: c.snapshotKey ?? "",
          labels: c.labels ?? {},
          created_at: timestamp(c.createdAt ?? 0),
          updated_at: timestamp(c.createdAt ?? 0),
        })),
      })),
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${this.socketPath}`, grpc.ServerCredentials.createInsecure(), (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    this.server = server;
  }

  /** Counts the call, waits its delay, applies faults, resolves the namespace. */
  private async enter(method: FakeMethod, call: AnyCall, namespaced: boolean): Promise<FakeNamespace | undefined> {
    this.calls.set(method, this.count(method) + 1);
    const now = (this.inFlight.get(method) ?? 0) + 1;
    this.inFlight.set(method, now);
    this.maxInFlight.set(method, Math.max(this.maxInFlight.get(method) ?? 0, now));
    await delay(this.delays.get(method) ?? 0, call);
    const namespace = call.metadata.get("containerd-namespace")[0]?.toString();
    for (const fault of this.faults.get(method) ?? []) {
      if (fault.namespace === undefined || fault.namespace === namespace) {
        throw new CallError(fault.code, fault.message ?? `injected ${grpc.status[fault.code]} for ${method}`);
      }
    }
    if (!namespaced) return undefined;
    if (!namespace) throw new CallError(grpc.status.FAILED_PRECONDITION, "namespace is required: failed precondition");
    // containerd answers empty lists for a namespace that has nothing.
    return (this.data.namespaces[namespace] ??= {});
  }

  private leave(method: FakeMethod): void {
    this.inFlight.set(method, (this.inFlight.get(method) ?? 1) - 1);
  }

  private unary(
    method: FakeMethod,
    namespaced: boolean,
    answer: (ns: FakeNamespace, request: Record<string, unknown>) => object,
  ): grpc.handleUnaryCall<Record<string, unknown>, object> {
    return (call, callback) => {
      this.enter(method, call, namespaced)
        .then((ns) => {
          if (call.cancelled) return;
          callback(null, answer(ns ?? {}, call.request));
        })
        .catch((error: unknown) => {
          const code = error instanceof CallError ? error.code : grpc.status.INTERNAL;
          callback({ code, details: (error as Error).message } as grpc.ServiceError);
        })
        .finally(() => this.leave(method));
    };
  }

  private stream(
    method: FakeMethod,
    items: (ns: FakeNamespace, request: Record<string, unknown>) => object[],
  ): grpc.handleServerStreamingCall<Record<string, unknown>, object> {
    return (call) => {
      this.enter(method, call, true)
        .then(async (ns) => {
          const all = items(ns ?? {}, call.request);
          for (let i = 0; i < all.length && !call.cancelled; i += this.pageSize) {
            // Respect backpressure, as a real server's Send does.
            if (!call.write({ info: all.slice(i, i + this.pageSize) })) await new Promise((r) => call.once("drain", r));
          }
          if (!call.cancelled) call.end();
        })
        .catch((error: unknown) => {
          const code = error instanceof CallError ? error.code : grpc.status.INTERNAL;
          call.emit("error", { code, details: (error as Error).message });
        })
        .finally(() => this.leave(method));
    };
  }
}
