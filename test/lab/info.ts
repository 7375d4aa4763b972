// The JSON-serialisable description of a running lab. The vitest global setup passes it to test
// files (which run in other processes) with provide/inject; everything a test needs to reach the
// lab is in here, so no helper may depend on objects living in the lab's own process.
import type { ContainerdVersion, DockerVersion } from "./runtimes.js";
import type { DockerdInfo } from "./dockerd.js";

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
  /** The containerd build the lab runs (LAB_CONTAINERD), e.g. "2.1.9". */
  containerdVersion: ContainerdVersion;
  /** 1 or 2: config format, plugin ids and ctr's default pull path differ. */
  containerdMajor: 1 | 2;
  /** What the daemon itself reports (Version API), e.g. "1.7.24~ds1", "2.1.9+unknown". */
  containerdReportedVersion: string;
  /** The ctr binary of that build (ctr.ts uses it). */
  ctrPath: string;
  /** The dockerd build running on the lab's containerd (LAB_DOCKER), or null: no dockerd. */
  dockerVersion: DockerVersion | null;
  /** How to reach that dockerd (dockerd.ts), null without one. */
  docker: DockerdInfo | null;
}

/** What scenario helpers need: the daemon socket and root, and the registry (ctrPath: which ctr). */
export type LabTarget = Pick<LabInfo, "socket" | "root" | "registry"> & Partial<Pick<LabInfo, "ctrPath" | "containerdMajor">>;
