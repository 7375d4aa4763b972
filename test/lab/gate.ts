// The unpack gate: how the lab holds containerd in the middle of unpacking a layer.
//
// containerd applies a layer in the daemon (diff service), between the client's Snapshots.Prepare
// of an `extract-<nanos>-<b64> <chainID>` snapshot and its Commit. For ordinary layers that
// window is a few milliseconds, too short to SIGKILL the client reliably. So the lab registers a
// containerd *stream processor* (a documented containerd feature, see stream_processors.md) for
// a private layer media type. containerd pipes such a layer through our script before
// decompressing it; the script lets the first GATE_PASS_BYTES through (so the active snapshot
// gets real, partial content) and then waits. The client is now parked inside Diff.Apply with an
// ACTIVE extract snapshot for as long as we like. Killing the client cancels the Apply, and
// containerd kills the script.
//
// Only layers pushed with `gated: true` (images.ts) use this media type; all other layers take
// containerd's normal path. A gated layer is a normal gzip'ed tar, only its media type differs.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PushedImage } from "./images.js";
import type { SnapshotRow } from "./inspect.js";
import { chainIds } from "./oci.js";

export const GATED_LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip+containerd-lab-gated";
const GZIP_LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip";

/** Bytes of the compressed stream the gate passes before it blocks. */
export const DEFAULT_GATE_PASS_BYTES = 1 << 20;
/** The gate gives up on its own after this long, so a forgotten pull cannot hang forever. */
const GATE_MAX_SECONDS = 120;

/** Writes the processor script into `dir` and returns the TOML that registers it. */
export function installGate(dir: string, passBytes = DEFAULT_GATE_PASS_BYTES): string {
  if (passBytes % 4096 !== 0) throw new Error("gate pass bytes must be a multiple of 4096");
  const script = join(dir, "unpack-gate.sh");
  writeFileSync(script, gateScript());
  chmodSync(script, 0o755);
  return [
    `[stream_processors."containerd-lab.unpack-gate"]`,
    `  accepts = [${JSON.stringify(GATED_LAYER_MEDIA_TYPE)}]`,
    `  returns = ${JSON.stringify(GZIP_LAYER_MEDIA_TYPE)}`,
    `  path = ${JSON.stringify(script)}`,
    `  args = [${JSON.stringify(String(passBytes))}]`,
  ].join("\n");
}

function gateScript(): string {
  // dd with iflag=fullblock passes exactly $1 bytes even though stdin is a pipe.
  // The wait loop uses short sleeps so nothing lingers once containerd kills the script.
  return `#!/bin/sh
# containerd-lab unpack gate (test/lab/gate.ts): pass $1 bytes, then hold the unpack.
dd bs=4096 count=$(($1 / 4096)) iflag=fullblock status=none || exit 1
i=0
while [ "$i" -lt ${GATE_MAX_SECONDS * 10} ]; do sleep 0.1; i=$((i + 1)); done
echo "containerd-lab unpack gate: held for ${GATE_MAX_SECONDS}s, giving up" >&2
exit 1
`;
}

/**
 * The snapshot an unpack of `image` is held in: the active `extract-… <chain ID>` of its gated
 * layer (the layers before it unpack normally, each briefly with an extract snapshot of its own).
 */
export function gatedUnpack(image: PushedImage): { chainId: string; heldKey: (key: string) => boolean; isHeld: (s: SnapshotRow) => boolean } {
  const gated = image.layers.findIndex((l) => l.gated);
  if (gated < 0) throw new Error(`${image.ref} has no gated layer: a held unpack needs one`);
  const chainId = chainIds(image.layers.map((l) => l.diffId))[gated]!;
  const heldKey = (key: string): boolean => key.startsWith("extract-") && key.endsWith(` ${chainId}`);
  return { chainId, heldKey, isHeld: (s) => s.kind === "Active" && heldKey(s.key) };
}
