/**
 * A minimal protobuf encoder: the few wire types ONNX's ModelProto needs. Messages are built
 * as byte arrays bottom-up, which is all a write-once graph builder requires.
 */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): this {
    this.chunks.push(bytes);
    this.length += bytes.length;
    return this;
  }

  private tag(field: number, wireType: number): this {
    return this.varint(BigInt((field << 3) | wireType));
  }

  private varint(value: bigint): this {
    // Negative int64 values are encoded as their two's complement in 10 bytes.
    let v = value < 0n ? value + (1n << 64n) : value;
    const out: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      out.push(byte);
    } while (v !== 0n);
    return this.push(Uint8Array.from(out));
  }

  int(field: number, value: number | bigint): this {
    return this.tag(field, 0).varint(BigInt(value));
  }

  /** Repeated scalars unpacked: ONNX's schema is proto2, where unpacked is the default encoding. */
  ints(field: number, values: readonly (number | bigint)[]): this {
    for (const v of values) this.int(field, v);
    return this;
  }

  float(field: number, value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    return this.tag(field, 5).push(b);
  }

  bytes(field: number, value: Uint8Array): this {
    return this.tag(field, 2).varint(BigInt(value.length)).push(value);
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}
