// Starts the containerd lab by hand (used by the README demo):
//   node --import tsx scripts/lab.ts [--scenario demo|none] [--namespace demo] [--dir DIR]
// With the demo scenario it fills one namespace with what the exporter looks for: a cancelled
// download (stuck lease + partial ingests), a cancelled unpack (stuck lease + committed
// snapshots + an active extract snapshot) and, for contrast, a complete pull with a container.
// Prints the socket and a `LAB_INFO {...}` JSON line, then stays up until SIGINT/SIGTERM.
import { parseArgs } from "node:util";
import { pushImage } from "../test/lab/images.js";
import { startLab, type Lab } from "../test/lab/lab.js";
import { cancelledDownload, cancelledUnpack, completePull, createContainer } from "../test/lab/scenarios.js";

const MiB = 1 << 20;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenario: { type: "string", default: "demo" },
      namespace: { type: "string", default: "demo" },
      dir: { type: "string" },
    },
  });
  if (values.scenario !== "demo" && values.scenario !== "none") throw new Error(`unknown scenario: ${values.scenario}`);
  const lab = await startLab({ dir: values.dir, withDocker: true });
  const stop = once(() => lab.stop());
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => void stop().then(() => process.exit(0)));
  try {
    if (values.scenario === "demo") await demo(lab, values.namespace);
  } catch (error) {
    await stop();
    throw error;
  }
  console.log(`containerd socket: ${lab.socket}`);
  console.log(`try: ctr --address ${lab.socket} -n ${values.namespace} leases ls`);
  console.log(`LAB_INFO ${JSON.stringify(lab.info())}`);
  console.log("lab is up; Ctrl-C (SIGINT) or SIGTERM stops it");
  setInterval(() => undefined, 1 << 30); // stay up until a signal arrives
}

async function demo(lab: Lab, ns: string): Promise<void> {
  const download = await pushImage(lab, { repo: "demo/download", tag: "1", layers: [{ size: 3 * MiB }, { size: 2 * MiB }] });
  const unpack = await pushImage(lab, { repo: "demo/unpack", tag: "1", layers: [{ size: MiB }, { size: 2 * MiB }, { size: 2 * MiB, gated: true }] });
  const complete = await pushImage(lab, { repo: "demo/complete", tag: "1", layers: [{ size: MiB }, { size: MiB }] });

  const d = await cancelledDownload(lab, ns, download);
  console.log(`cancelled download: lease ${d.leases.map((l) => l.id).join(", ")}; partial ingests ${d.ingests.map((i) => `${i.ref} ${i.offset}/${i.total}`).join(", ")}`);
  const u = await cancelledUnpack(lab, ns, unpack);
  console.log(`cancelled unpack: lease ${u.leases.map((l) => l.id).join(", ")}; active ${JSON.stringify(u.extract.key)} on ${u.committed.length} committed snapshots`);
  const c = await completePull(lab, ns, complete);
  const container = await createContainer(lab, ns, c.imageRef, "demo-container");
  console.log(`complete pull: ${c.imageRef}; container ${container.id} on snapshot ${container.snapshotKey}`);
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => (result ??= fn());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
