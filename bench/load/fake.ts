// The load run's containerd: the fake gRPC server with NAMESPACES sample namespaces, in its own
// process so that serving it does not slow the probe of /healthz in run.ts. Prints its socket.
import { sampleNamespace } from "../../test/faults/support.js";
import { FakeContainerd } from "../../test/support/fake-containerd.js";

const namespaces = Object.fromEntries(
  Array.from({ length: Number(process.argv[2] ?? 10) }, (_, i) => [`ns-${i}`, sampleNamespace(`ns${i}`)]),
);
const fake = await FakeContainerd.start({ data: { namespaces } });
fake.setDelay("Leases/List", 50); // reads overlap, as against a busy containerd
process.stdout.write(`${fake.socketPath}\n`);
// Asked on stdin for its counts ("counts\n"), it answers one JSON line; stdin closed: it stops.
process.stdin.on("data", () => {
  const calls = [...fake.calls.values()].reduce((a, b) => a + b, 0);
  process.stdout.write(`${JSON.stringify({ reads: fake.count("Namespaces/List"), calls })}\n`);
});
process.stdin.on("end", () => void fake.dispose().then(() => process.exit(0)));
