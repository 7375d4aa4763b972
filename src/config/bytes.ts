/**
 * Byte sizes written the way people and Kubernetes write them: `0`, `1048576`,
 * `512MiB`, `10GiB`, `1.5GB` (powers of 1024 for KiB…TiB, of 1000 for KB…TB).
 */
const FACTORS: Record<string, number> = {
  "": 1,
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
};

export class ByteSizeError extends Error {}

export function parseByteSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  const factor = match ? FACTORS[(match[2] as string).toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new ByteSizeError(`invalid size ${JSON.stringify(text)}: use a number of bytes or a unit, e.g. 0, 512MiB, 10GiB`);
  }
  const bytes = Math.round(Number(match[1]) * factor);
  if (!Number.isSafeInteger(bytes)) throw new ByteSizeError(`size ${JSON.stringify(text)} is too large`);
  return bytes;
}
