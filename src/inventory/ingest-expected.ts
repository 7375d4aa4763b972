import type { IngestStatus } from "../containerd/types.js";

// Clients name an ingest after the blob it writes: remotes.MakeRefKey gives
// "layer-<digest>", "manifest-<digest>", "config-<digest>", "index-<digest>"
// (ctr, Docker, the CRI plugin, the transfer service).
const DIGEST_AT_END = /(?:^|[-:/])(sha256:[0-9a-f]{64})$/;

/**
 * The digest an ingest will commit to. containerd keeps it in its metadata
 * (the ingest's `expected` key, which gc.go and content.go read) but
 * ListStatuses leaves `expected` empty (measured on 1.6.20), so the ref the
 * client chose is the evidence when the field is missing.
 */
export function expectedDigest(ingest: Pick<IngestStatus, "ref" | "expected">): string {
  if (ingest.expected) return ingest.expected;
  return DIGEST_AT_END.exec(ingest.ref)?.[1] ?? "";
}
