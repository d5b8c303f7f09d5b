import { createHash } from 'node:crypto';
import { ValidationError } from '@affinity/contracts';

/**
 * A self-describing binary container: `AFGS`, format version, JSON metadata, named
 * typed-array sections (8-byte aligned so they can be viewed without copying), and a
 * trailing sha256 of everything before it so a torn or mixed-up snapshot is refused.
 *
 *   magic u32 | version u32 | metaLen u32 | meta utf8 | pad→8
 *   ( nameLen u32 | name utf8 | pad→8 | byteLen f64 | bytes | pad→8 )*
 *   sha256 (32 bytes)
 */
const MAGIC = 0x53474641; // 'AFGS' little-endian
const VERSION = 1;

export type SectionData = Uint8Array | Int32Array | Uint32Array | Float32Array | Float64Array;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('@affinity/graph snapshots assume a little-endian host');
}

const pad8 = (n: number): number => (n + 7) & ~7;

export function encodeSnapshot(meta: unknown, sections: Readonly<Record<string, SectionData>>): Buffer {
  const metaBytes = Buffer.from(JSON.stringify(meta), 'utf8');
  const names = Object.keys(sections);
  let size = pad8(12 + metaBytes.length);
  for (const name of names) {
    size += pad8(4 + Buffer.byteLength(name)) + 8 + pad8(sections[name]!.byteLength);
  }
  const out = Buffer.alloc(size + 32);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(VERSION, 4);
  out.writeUInt32LE(metaBytes.length, 8);
  metaBytes.copy(out, 12);
  let p = pad8(12 + metaBytes.length);
  for (const name of names) {
    const data = sections[name]!;
    const nameLen = out.write(name, p + 4, 'utf8');
    out.writeUInt32LE(nameLen, p);
    p = pad8(p + 4 + nameLen);
    out.writeDoubleLE(data.byteLength, p);
    p += 8;
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), p);
    p += pad8(data.byteLength);
  }
  createHash('sha256').update(out.subarray(0, size)).digest().copy(out, size);
  return out;
}

export interface DecodedSnapshot {
  meta: unknown;
  section(name: string): Uint8Array;
}

export function decodeSnapshot(buf: Uint8Array): DecodedSnapshot {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 44 || b.readUInt32LE(0) !== MAGIC) throw new ValidationError('not an @affinity/graph snapshot (bad magic)');
  if (b.readUInt32LE(4) !== VERSION) throw new ValidationError(`unsupported snapshot version ${b.readUInt32LE(4)}`);
  const size = b.length - 32;
  const digest = createHash('sha256').update(b.subarray(0, size)).digest();
  if (!digest.equals(b.subarray(size))) throw new ValidationError('snapshot checksum mismatch (truncated or corrupted)');
  const metaLen = b.readUInt32LE(8);
  const meta: unknown = JSON.parse(b.toString('utf8', 12, 12 + metaLen));
  const sections = new Map<string, Uint8Array>();
  let p = pad8(12 + metaLen);
  while (p < size) {
    const nameLen = b.readUInt32LE(p);
    const name = b.toString('utf8', p + 4, p + 4 + nameLen);
    p = pad8(p + 4 + nameLen);
    const byteLen = b.readDoubleLE(p);
    p += 8;
    sections.set(name, b.subarray(p, p + byteLen));
    p += pad8(byteLen);
  }
  return {
    meta,
    section(name) {
      const s = sections.get(name);
      if (s === undefined) throw new ValidationError(`snapshot has no section "${name}"`);
      return s;
    },
  };
}

/**
 * Copies a section into a fresh, aligned typed array. (Not `bytes.slice()`: on a Buffer that
 * is a view, and `.buffer` would be the whole pooled slab.)
 */
function copyBytes(bytes: Uint8Array): ArrayBuffer {
  const out = new Uint8Array(bytes.byteLength);
  out.set(bytes);
  return out.buffer;
}
export function asInt32(bytes: Uint8Array): Int32Array {
  return new Int32Array(copyBytes(bytes));
}
export function asUint32(bytes: Uint8Array): Uint32Array {
  return new Uint32Array(copyBytes(bytes));
}
export function asFloat32(bytes: Uint8Array): Float32Array {
  return new Float32Array(copyBytes(bytes));
}
export function asFloat64(bytes: Uint8Array): Float64Array {
  return new Float64Array(copyBytes(bytes));
}

/** Newline-joined identifiers (identifiers never contain whitespace). */
export function encodeLines(lines: readonly string[]): Uint8Array {
  return Buffer.from(lines.join('\n'), 'utf8');
}
export function decodeLines(bytes: Uint8Array): string[] {
  if (bytes.byteLength === 0) return [];
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8').split('\n');
}

/**
 * Splits a snapshot into chunks of at most `maxBytes` (Redis strings, object-store parts);
 * {@link joinChunks} reassembles them and the checksum inside catches a missing piece.
 */
export function splitChunks(buf: Uint8Array, maxBytes: number): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 0; p < buf.byteLength; p += maxBytes) {
    out.push(Buffer.from(buf.buffer, buf.byteOffset + p, Math.min(maxBytes, buf.byteLength - p)));
  }
  return out;
}
export function joinChunks(chunks: readonly Uint8Array[]): Buffer {
  return Buffer.concat(chunks);
}
