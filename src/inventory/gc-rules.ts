/**
 * containerd's garbage collector differs by version; classification applies
 * the rules of the daemon it read (inventory.containerd.version). Each rule
 * names where it comes from. Rules that hold on every version (expired leases
 * are not roots, a lease's resources and gc.ref labels are followed, an
 * ingest's `expected` digest is an edge to that blob) live in classify.ts and
 * graph.ts.
 */
export interface GcRules {
  /**
   * An image whose `containerd.io/gc.expire` has passed is not a root
   * (core/metadata/gc.go isExpiredImage, 2.0+). On 1.x every image's target is
   * a root and the label changes nothing (metadata/gc.go scanRoots).
   */
  expiringImages: boolean;
  /** `containerd.io/gc.ref.image[.<x>|/<x>]` labels point at an image by name (2.0+, with ResourceImage). */
  imageRefLabels: boolean;
  /**
   * The gc.ref labels of sandbox store objects are roots (scanRoots walks the
   * `sandboxes` bucket). 1.7 has the code, but 1.7.24 writes sandboxes outside
   * the `v1/` bucket GC scans (measured), so only 2.x honours them.
   */
  sandboxLabelRoots: boolean;
}

/** Conservative when the version is unknown: every rule that keeps more data applies. */
const UNKNOWN: GcRules = { expiringImages: false, imageRefLabels: true, sandboxLabelRoots: true };
const V1: GcRules = { expiringImages: false, imageRefLabels: false, sandboxLabelRoots: false };
const V2: GcRules = { expiringImages: true, imageRefLabels: true, sandboxLabelRoots: true };

/** Major version of a containerd version string ("v1.6.20", "2.1.9+ds1", "1.7.24~ds1"). */
export function majorVersion(version: string | undefined | null): number | undefined {
  const m = /^v?(\d+)\./.exec(version ?? "");
  return m ? Number(m[1]) : undefined;
}

export function gcRulesFor(version: string | undefined | null): GcRules {
  const major = majorVersion(version);
  if (major === undefined) return UNKNOWN;
  return major >= 2 ? V2 : V1;
}
