// Reproducible incompressible bytes. AES-256-CTR over zeros is a fast seeded stream (hundreds of
// MB/s) whose output gzip cannot shrink, so a layer's size on disk is what the test asked for.
import { createCipheriv, createHash } from "node:crypto";

/** `size` pseudo-random bytes determined only by `seed`. */
export function randomBytesFromSeed(seed: string, size: number): Buffer {
  const key = createHash("sha256").update(`key:${seed}`).digest();
  const iv = createHash("sha256").update(`iv:${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv("aes-256-ctr", key, iv);
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}
