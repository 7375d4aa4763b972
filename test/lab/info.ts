// The JSON-serialisable description of a running lab. The vitest global setup passes it to test
// files (which run in other processes) with provide/inject; everything a test needs to reach the
// lab is in here, so no helper may depend on objects living in the lab's own process.

export interface LabInfo {
  /** The lab's temporary directory (everything below it is removed on stop). */
  dir: string;
  /** containerd gRPC socket, for `ctr --address` and gRPC clients ("unix://" + socket). */
  socket: string;
  /** containerd root and state directories. */
  root: string;
  state: string;
  containerdPid: number;
  containerdLog: string;
  containerdConfig: string;
  /** Registry address "127.0.0.1:PORT" (plain HTTP). */
  registry: string;
  registryPid: number;
  /**
   * The lab's shared throttling proxy in front of the registry. Its rate can only be changed
   * from the lab's own process; scenario helpers start their own proxy instead.
   */
  proxy: string;
  /** Media type of layers whose unpack the lab holds (gate.ts). */
  gatedLayerMediaType: string;
  /** Bytes of a gated layer's blob that unpacking gets before it is held. */
  gatePassBytes: number;
}

/** What scenario helpers need: the daemon socket and root, and the registry. */
export type LabTarget = Pick<LabInfo, "socket" | "root" | "registry">;
