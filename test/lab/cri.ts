// The kubelet's side of CRI on the lab containerd's socket (a lab started with `withCri`):
// image pulls and listings, pod sandboxes on the node's network and containers in them; and the registry hosts
// CRI may pull from over plain HTTP.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/** Where a CRI lab's pause image lives on its registry: the lab's busybox (busybox.ts). */
export const CRI_PAUSE = { repo: "lab/pause", tag: "1" } as const;
/** The pause image's reference on the lab registry at `registry` ("127.0.0.1:PORT"). */
export const criPauseImage = (registry: string) => `${registry}/${CRI_PAUSE.repo}:${CRI_PAUSE.tag}`;

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

type Callback<Res> = (error: grpc.ServiceError | null, response: Res) => void;
type Unary<Req, Res> = (request: Req, options: grpc.CallOptions, callback: Callback<Res>) => grpc.ClientUnaryCall;
type Constructor<T> = new (address: string, credentials: grpc.ChannelCredentials) => T;

interface ImageServiceClient extends grpc.Client {
  PullImage: Unary<{ image: { image: string } }, { imageRef: string }>;
  ListImages: Unary<Record<string, never>, { images: CriImage[] }>;
}
interface RuntimeServiceClient extends grpc.Client {
  RunPodSandbox: Unary<{ config: object }, { podSandboxId: string }>;
  StopPodSandbox: Unary<{ podSandboxId: string }, object>;
  RemovePodSandbox: Unary<{ podSandboxId: string }, object>;
  CreateContainer: Unary<{ podSandboxId: string; config: object; sandboxConfig: object }, { containerId: string }>;
  StartContainer: Unary<{ containerId: string }, object>;
  ExecSync: Unary<{ containerId: string; cmd: string[]; timeout: number }, { stdout: Buffer; stderr: Buffer; exitCode: number }>;
}

/** A running pod: its sandbox id and the config it was made from (containers need it again). */
export interface Pod {
  id: string;
  config: object;
}

const definition = protoLoader.loadSync(new URL("./proto/cri.proto", import.meta.url).pathname, { keepCase: false, defaults: true });
const services = (grpc.loadPackageDefinition(definition) as unknown as {
  runtime: { v1: { ImageService: Constructor<ImageServiceClient>; RuntimeService: Constructor<RuntimeServiceClient> } };
}).runtime.v1;

/** One unary call with a deadline, as a promise; `signal` cancels it. */
function unary<Req, Res>(method: Unary<Req, Res>, request: Req, timeoutMs: number, signal?: AbortSignal): Promise<Res> {
  return new Promise((resolve, reject) => {
    const call = method(request, { deadline: Date.now() + timeoutMs }, (error, res) => (error ? reject(error) : resolve(res)));
    signal?.addEventListener("abort", () => call.cancel(), { once: true });
  });
}

export class Cri {
  private readonly images: ImageServiceClient;
  private readonly runtime: RuntimeServiceClient;

  constructor(socket: string) {
    const address = `unix://${socket.replace(/^unix:\/\//, "")}`;
    this.images = new services.ImageService(address, grpc.credentials.createInsecure());
    this.runtime = new services.RuntimeService(address, grpc.credentials.createInsecure());
  }

  /** PullImage, as the kubelet sends it; `signal` cancels the call (a kubelet giving up, a node draining). */
  async pull(image: string, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<string> {
    const call = this.images.PullImage.bind(this.images);
    return (await unary(call, { image: { image } }, options.timeoutMs ?? 120_000, options.signal)).imageRef;
  }

  async listImages(): Promise<CriImage[]> {
    return (await unary(this.images.ListImages.bind(this.images), {}, 30_000)).images;
  }

  /**
   * RunPodSandbox for a pod on the node's network (no CNI needed), with its pause container
   * from the lab's pause image.
   */
  async runPodSandbox(name: string, logDirectory: string): Promise<Pod> {
    const config = {
      metadata: { name, uid: `uid-${name}`, namespace: "lab", attempt: 0 },
      logDirectory,
      labels: { app: name },
      linux: { securityContext: { namespaceOptions: { network: "NODE", pid: "CONTAINER", ipc: "POD" } } },
    };
    const { podSandboxId } = await unary(this.runtime.RunPodSandbox.bind(this.runtime), { config }, 120_000);
    return { id: podSandboxId, config };
  }

  /** CreateContainer then StartContainer in `pod`, running `script` with the image's shell; returns the container id. */
  async runContainer(pod: Pod, name: string, image: string, script: string): Promise<string> {
    const config = { metadata: { name, attempt: 0 }, image: { image }, command: ["/bin/sh", "-c"], args: [script], logPath: `${name}.log` };
    const request = { podSandboxId: pod.id, config, sandboxConfig: pod.config };
    const { containerId } = await unary(this.runtime.CreateContainer.bind(this.runtime), request, 60_000);
    await unary(this.runtime.StartContainer.bind(this.runtime), { containerId }, 60_000);
    return containerId;
  }

  /** ExecSync: `cmd` in the container, its stdout (rejects on a non-zero exit). */
  async exec(containerId: string, cmd: string[]): Promise<string> {
    const res = await unary(this.runtime.ExecSync.bind(this.runtime), { containerId, cmd, timeout: 30 }, 40_000);
    if (res.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${res.exitCode}: ${res.stderr.toString()}`);
    return res.stdout.toString();
  }

  /** StopPodSandbox then RemovePodSandbox (its containers with it), as the kubelet does when a pod is deleted. */
  async removePodSandbox(pod: Pod): Promise<void> {
    await unary(this.runtime.StopPodSandbox.bind(this.runtime), { podSandboxId: pod.id }, 60_000);
    await unary(this.runtime.RemovePodSandbox.bind(this.runtime), { podSandboxId: pod.id }, 60_000);
  }

  close(): void {
    this.images.close();
    this.runtime.close();
  }
}
