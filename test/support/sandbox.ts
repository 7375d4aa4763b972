import * as grpc from "@grpc/grpc-js";
import { loadContainerdProto } from "../../src/containerd/proto.js";

/** The sandbox store's Create (containerd >= 1.7), the way the CRI plugin records a pod sandbox. */
export function createSandbox(socket: string, ns: string, id: string, labels: Record<string, string>): Promise<void> {
  const Store = loadContainerdProto().containerd.services.sandbox.v1.Store;
  const store = new Store(`unix://${socket}`, grpc.credentials.createInsecure()) as unknown as grpc.Client &
    Record<string, (...args: unknown[]) => void>;
  const metadata = new grpc.Metadata();
  metadata.set("containerd-namespace", ns);
  const spec = { type_url: "types.containerd.io/opencontainers/runtime-spec/1/Spec", value: Buffer.from("{}") };
  const sandbox = { sandbox_id: id, runtime: { name: "io.containerd.runc.v2" }, spec, labels, sandboxer: "podsandbox" };
  return new Promise((resolve, reject) => {
    store.Create!({ sandbox }, metadata, { deadline: Date.now() + 10_000 }, (error: Error | null) => {
      store.close();
      if (error) reject(error);
      else resolve();
    });
  });
}
