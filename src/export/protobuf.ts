// A minimal protocol-buffers writer (and a structural reader) — just what ONNX's ModelProto needs:
// varints, 64-bit ints as varints, fixed32 floats, and length-delimited bytes / strings / messages.
// Messages are built bottom-up: a nested message is finished (its length known) before its parent
// appends it, so no second pass is needed.

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();

export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private size = 0;

  private flushScratch(): void {
    if (!this.scratch.length) return;
    const b = Uint8Array.from(this.scratch);
    this.chunks.push(b);
    this.size += b.length;
    this.scratch = [];
  }

  private varint(v: number | bigint): void {
    // int64 fields: negative values are written as their 64-bit two's complement (10 bytes)
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.scratch.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.scratch.push(Number(x));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.scratch.push(...b);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_LENGTH);
    this.varint(data.length);
    this.flushScratch();
    this.chunks.push(data);
    this.size += data.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    this.flushScratch();
    if (this.chunks.length === 1) return this.chunks[0]!;
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    this.chunks = [out];
    return out;
  }
}

/** One field of a message as read back: its number, wire type and (for length-delimited) its bytes. */
export interface ProtoField {
  field: number;
  wire: number;
  /** varint value (wire 0) */
  value?: bigint;
  /** payload (wire 2), a view into the buffer */
  bytes?: Uint8Array;
}

export class ProtoError extends Error {}

/**
 * The top-level fields of a message; throws ProtoError when the bytes end inside a field (a
 * truncated file) or use a wire type protobuf does not have (not a protobuf message).
 */
export function readFields(buf: Uint8Array): ProtoField[] {
  const out: ProtoField[] = [];
  let at = 0;
  const varint = (): bigint => {
    let x = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (at >= buf.length) throw new ProtoError(`ends inside a varint at byte ${at}`);
      if (shift > 63n) throw new ProtoError(`varint longer than 10 bytes at byte ${at}`);
      const b = buf[at++]!;
      x |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return x;
    }
  };
  while (at < buf.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw new ProtoError(`field number 0 at byte ${at}`);
    if (wire === WIRE_VARINT) out.push({ field, wire, value: varint() });
    else if (wire === WIRE_LENGTH) {
      const n = Number(varint());
      if (at + n > buf.length)
        throw new ProtoError(`field ${field} needs ${n} bytes at byte ${at}, only ${buf.length - at} remain`);
      out.push({ field, wire, bytes: buf.subarray(at, at + n) });
      at += n;
    } else if (wire === WIRE_FIXED32 || wire === WIRE_FIXED64) {
      const n = wire === WIRE_FIXED32 ? 4 : 8;
      if (at + n > buf.length) throw new ProtoError(`ends inside field ${field} at byte ${at}`);
      out.push({ field, wire });
      at += n;
    } else throw new ProtoError(`wire type ${wire} (field ${field}) at byte ${at}`);
  }
  return out;
}
