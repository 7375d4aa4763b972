// A minimal ustar writer: enough for image layers made of directories, regular files and symlinks.
// Written by hand (instead of shelling out to `tar`) so layer bytes, and therefore digests, depend
// only on the seed: no mtimes, user names or tar-version quirks leak in.

const BLOCK = 512;

export interface TarEntry {
  /** Path inside the archive, without leading slash; directories end with "/". */
  name: string;
  /** File contents; omit for directories. */
  data?: Buffer;
  mode?: number;
  /** Makes the entry a symbolic link to this target (no data). */
  symlink?: string;
}

/** Builds a complete tar archive (entries + two zero blocks) in memory. */
export function buildTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.data ?? Buffer.alloc(0);
    parts.push(header(entry, data.length), data, Buffer.alloc(padding(data.length)));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

/** Size a file of `size` bytes occupies in a tar stream (header + data + padding). */
export function tarEntrySize(size: number): number {
  return BLOCK + size + padding(size);
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function header(entry: TarEntry, size: number): Buffer {
  const isDir = entry.name.endsWith("/");
  const isLink = entry.symlink !== undefined;
  if (Buffer.byteLength(entry.name) > 100) throw new Error(`tar name too long: ${entry.name}`);
  if (isLink && Buffer.byteLength(entry.symlink!) > 100) throw new Error(`tar link target too long: ${entry.symlink}`);
  const h = Buffer.alloc(BLOCK);
  h.write(entry.name, 0, 100, "utf8");
  octal(h, 100, 8, entry.mode ?? (isDir ? 0o755 : isLink ? 0o777 : 0o644));
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, isDir || isLink ? 0 : size);
  octal(h, 136, 12, 0); // mtime: fixed so the digest is reproducible
  h.write("        ", 148, 8, "ascii"); // checksum is computed with this field as spaces
  h.write(isDir ? "5" : isLink ? "2" : "0", 156, 1, "ascii");
  if (isLink) h.write(entry.symlink!, 157, 100, "utf8");
  h.write("ustar\0", 257, 6, "ascii");
  h.write("00", 263, 2, "ascii");
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "ascii");
  return h;
}

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  buf.write(`${value.toString(8).padStart(length - 1, "0")}\0`, offset, length, "ascii");
}
