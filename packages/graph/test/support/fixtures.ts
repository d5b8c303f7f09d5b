import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface ParityFixture {
  events: number;
  halfLifeMs: number;
  options: { dim: number; iterationWeights: number[]; normalizationStrength: number; sparsity: number; seed: number };
  keys: string[];
  edges: number;
  R: Float32Array;
  embeddings: Float32Array;
}

function f32(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** The committed output of reference/make_fixture.py. */
export function loadParityFixture(): ParityFixture {
  const raw = JSON.parse(gunzipSync(readFileSync(new URL('../fixtures/fastrp-parity.json.gz', import.meta.url))).toString('utf8')) as Omit<
    ParityFixture,
    'R' | 'embeddings'
  > & { R: string; embeddings: string };
  return { ...raw, R: f32(raw.R), embeddings: f32(raw.embeddings) };
}
