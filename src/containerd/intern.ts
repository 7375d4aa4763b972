/**
 * One copy of each repeated string for the length of a read. The same digest shows up as a
 * blob, in the gc.ref labels of the blobs and images that reference it, in the resources of
 * every lease that holds it and in every namespace that shares it; a snapshot's name is its
 * child's parent; resource types and snapshotter names repeat thousands of times. Kept only
 * while one read runs, so it never outgrows what that read keeps anyway.
 */
export class Interner {
  private readonly strings = new Map<string, string>();

  intern(s: string): string {
    if (s.length === 0) return "";
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    this.strings.set(s, s);
    return s;
  }

  get size(): number {
    return this.strings.size;
  }
}
