import { z } from 'zod';

/** Largest vector we accept on the wire (bge-large is 1024; leave room, refuse nonsense). */
export const MAX_VECTOR_DIM = 4096;

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Float32Array → base64 of its little-endian bytes (4 bytes per value). */
export function encodeVector(v: Float32Array): string {
  if (littleEndian) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  const out = Buffer.allocUnsafe(v.length * 4);
  for (let i = 0; i < v.length; i++) out.writeFloatLE(v[i]!, i * 4);
  return out.toString('base64');
}

/** Inverse of {@link encodeVector}; returns null when the bytes are not whole floats. */
export function decodeVector(b64: string): Float32Array | null {
  const buf = Buffer.from(b64, 'base64');
  if (buf.length % 4 !== 0) return null;
  const out = new Float32Array(buf.length / 4);
  if (littleEndian) {
    new Uint8Array(out.buffer).set(buf);
  } else {
    for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  }
  return out;
}

/**
 * A vector on the wire: base64 of float32 little-endian, parsed into a Float32Array.
 * JSON arrays of numbers would be 2-3x larger and lose nothing we need.
 */
export const WireVector = z
  .string()
  .max(Math.ceil((MAX_VECTOR_DIM * 4) / 3) * 4 + 4, `at most ${MAX_VECTOR_DIM} dimensions`)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64 of float32 little-endian values')
  .transform((s, ctx) => {
    const v = decodeVector(s);
    if (v === null || v.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'vector bytes must be a non-empty whole number of float32 values' });
      return z.NEVER;
    }
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i]!)) {
        ctx.addIssue({ code: 'custom', message: `vector component ${i} is not finite` });
        return z.NEVER;
      }
    }
    return v;
  });

/** An embedding with the model that produced it; `dim` must equal the vector length. */
export const Embedding = z
  .object({
    modelId: z.string().min(1).max(128),
    dim: z.number().int().min(1).max(MAX_VECTOR_DIM),
    vector: WireVector,
  })
  .refine((e) => e.vector.length === e.dim, { message: 'vector length does not match dim', path: ['vector'] });

export type Embedding = z.output<typeof Embedding>;

/** JSON.stringify replacer that writes typed float arrays the way {@link WireVector} reads them. */
export function wireReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Float32Array) return encodeVector(value);
  return value;
}
