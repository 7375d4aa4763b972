// The kubelet's side of CRI, as far as images go: PullImage and ListImages on the lab
// containerd's socket (started with `cri: true`), and the registry hosts CRI may pull from.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/** Lets CRI pull over plain HTTP from each `host:port` (containerd's hosts.toml under config_path). */
export function allowPlainHttp(registryHosts: string, addresses: readonly string[]): void {
  for (const address of addresses) {
    mkdirSync(join(registryHosts, address), { recursive: true });
    writeFileSync(
      join(registryHosts, address, "hosts.toml"),
      `server = "http://${address}"\n\n[host."http://${address}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
  }
}

export interface CriImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
}

type Unary<Req, Res> = (request: Req, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response: Res) => void) => grpc.ClientUnaryCall;
interface ImageServiceClient extends grpc.Client {
  PullImage: Unary<{ image: { image: string } }, { imageRef: string }>;
  ListImages: Unary<Record<string, never>, { images: CriImage[] }>;
}

const definition = protoLoader.loadSync(new URL("./proto/cri-images.proto", import.meta.url).pathname, {
  keepCase: false,
  defaults: true,
});
const ImageService = (grpc.loadPackageDefinition(definition) as unknown as {
  runtime: { v1: { ImageService: new (address: string, credentials: grpc.ChannelCredentials) => ImageServiceClient } };
}).runtime.v1.ImageService;

export class CriImages {
  private readonly client: ImageServiceClient;

  constructor(socket: string) {
    this.client = new ImageService(`unix://${socket.replace(/^unix:\/\//, "")}`, grpc.credentials.createInsecure());
  }

  /** PullImage, as the kubelet sends it; `signal` cancels the call (a kubelet giving up, a node draining). */
  pull(image: string, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      const call = this.client.PullImage({ image: { image } }, { deadline: Date.now() + (options.timeoutMs ?? 120_000) }, (error, res) =>
        error ? reject(error) : resolve(res.imageRef),
      );
      options.signal?.addEventListener("abort", () => call.cancel(), { once: true });
    });
  }

  list(): Promise<CriImage[]> {
    return new Promise((resolve, reject) =>
      this.client.ListImages({}, { deadline: Date.now() + 30_000 }, (error, res) => (error ? reject(error) : resolve(res.images))),
    );
  }

  close(): void {
    this.client.close();
  }
}
