/**
 * The protobuf wire format, as much of it as containerd's answers and our requests use:
 * varints (int32, int64, bool, enums), length-delimited fields (strings, bytes, messages,
 * map entries) and skipping whatever else a newer containerd adds. Decoding works on the
 * Buffer grpc-js hands over, with no intermediate message objects: callers read the fields
 * they need straight into the shape they keep.
 */

export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH = 2;
export const FIXED32 = 5;

const TWO_32 = 4294967296;

export class WireError extends Error {}

export class WireReader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    /** Offset just past the last byte of the message being read. */
    public end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The next field's key: field number times 8 plus wire type. */
  tag(): number {
    return this.uint32();
  }

  /** A varint's low 32 bits, unsigned (tags, lengths, enums, bools). */
  uint32(): number {
    const { buf } = this;
    let value = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new WireError("truncated varint");
      const byte = buf[this.pos++] as number;
      if (shift < 32) value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value >>> 0;
      shift += 7;
      if (shift >= 70) throw new WireError("varint too long");
    }
  }

  int32(): number {
    return this.uint32() | 0;
  }

  /**
   * A signed 64-bit varint as a Number: exact up to 2^53 (8 PiB, or 285 million years of
   * seconds), so sizes and timestamps never need a Long.
   */
  int64(): number {
    const { buf } = this;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new WireError("truncated varint");
      const byte = buf[this.pos++] as number;
      const bits = byte & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else if (shift < 64) hi |= bits << (shift - 32);
      if (byte < 0x80) break;
      shift += 7;
      if (shift >= 70) throw new WireError("varint too long");
    }
    return (hi | 0) * TWO_32 + (lo >>> 0);
  }

  bool(): boolean {
    return this.uint32() !== 0;
  }

  /** The length of a length-delimited field, checked against the message. */
  length(): number {
    const n = this.uint32();
    if (this.pos + n > this.end) throw new WireError("length past the end of the message");
    return n;
  }

  string(): string {
    const n = this.length();
    const start = this.pos;
    this.pos += n;
    return this.buf.toString("utf8", start, start + n);
  }

  /**
   * Enters a nested message: returns the end of the enclosing one, to be given back to
   * `leave` once the nested message's fields are read.
   */
  enter(): number {
    const n = this.length();
    const outer = this.end;
    this.end = this.pos + n;
    return outer;
  }

  leave(outer: number): void {
    this.pos = this.end;
    this.end = outer;
  }

  /** Skips a field of the given wire type (a field this reader does not know). */
  skip(wireType: number): void {
    if (wireType === VARINT) this.uint32();
    else if (wireType === LENGTH) {
      const n = this.length(); // read before pos is: the length's own bytes move it
      this.pos += n;
    }
    else if (wireType === FIXED64) this.pos += 8;
    else if (wireType === FIXED32) this.pos += 4;
    else throw new WireError(`unsupported wire type ${wireType}`);
    if (this.pos > this.end) throw new WireError("field past the end of the message");
  }
}

/** Builds small request messages. */
export class WireWriter {
  private readonly parts: Buffer[] = [];
  private size = 0;

  string(field: number, value: string | undefined): this {
    if (!value) return this; // proto3: the default is not sent
    return this.bytes(field, Buffer.from(value, "utf8"));
  }

  bytes(field: number, value: Buffer): this {
    this.key(field, LENGTH);
    this.varint(value.length);
    this.push(value);
    return this;
  }

  bool(field: number, value: boolean | undefined): this {
    if (!value) return this;
    this.key(field, VARINT);
    this.varint(1);
    return this;
  }

  message(field: number, build: (w: WireWriter) => void): this {
    const inner = new WireWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  /** A map<string, string> field: one entry message (key = 1, value = 2) per pair. */
  map(field: number, entries: Record<string, string> | undefined): this {
    for (const [key, value] of Object.entries(entries ?? {})) {
      this.message(field, (w) => {
        w.bytes(1, Buffer.from(key, "utf8"));
        w.bytes(2, Buffer.from(value, "utf8"));
      });
    }
    return this;
  }

  repeated(field: number, values: readonly string[] | undefined): this {
    for (const value of values ?? []) this.bytes(field, Buffer.from(value, "utf8"));
    return this;
  }

  finish(): Buffer {
    return this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size);
  }

  private key(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  private varint(value: number): void {
    const bytes: number[] = [];
    let v = value >>> 0;
    while (v >= 0x80) {
      bytes.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    bytes.push(v);
    this.push(Buffer.from(bytes));
  }

  private push(part: Buffer): void {
    this.parts.push(part);
    this.size += part.length;
  }
}

export const EMPTY_MESSAGE = Buffer.alloc(0);
