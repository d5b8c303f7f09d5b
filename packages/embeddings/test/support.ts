import { readFileSync } from 'node:fs';
import { resolveModel, type ResolvedModel } from '../src/index';

const FIXTURES = new URL('./fixtures/', import.meta.url);

export interface ParityFixture {
  model: string;
  modelSha256: string;
  maxSequenceLength: number;
  productTitles: number;
  dim: number;
  cases: { name: string; index: number }[];
  texts: string[];
  ids: number[][];
}

export const parity = JSON.parse(readFileSync(new URL('parity-texts.json', FIXTURES), 'utf8')) as ParityFixture;

export function referenceVectors(model: string): Float32Array {
  const bytes = readFileSync(new URL(`parity-${model}.f32`, FIXTURES));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export function fixtureJson<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;
}

/**
 * The fetched model the fixtures were made with. Missing files fail the test with
 * ModelNotFoundError, whose message names the fetch command; a test never skips for it.
 */
export function testModel(): Promise<ResolvedModel> {
  return resolveModel(parity.model);
}
