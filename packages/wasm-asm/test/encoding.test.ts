import { describe, expect, it } from 'vitest';
import { I32, V128, F32, compileModule, countedLoop, funcBody, get, i32, instantiate, load32, name, newMemory, newSharedMemory, op, section, set, simd, sleb, storeF32, uleb, vec, when, WASM_PAGE_BYTES } from '../src/index';

/** A module importing env.mem with one exported function `f` of the given params/results. */
function moduleOf(params: number[], results: number[], locals: [number, number][], code: number[], shared = false): Uint8Array {
  const types = vec([[0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))]]);
  const imports = vec([[...name('env'), ...name('mem'), 0x02, ...(shared ? [0x03, 1, ...uleb(4)] : [0x00, 1])]]);
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, types),
    ...section(2, imports),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('f'), 0x00, 0]])),
    ...section(10, vec([funcBody(locals, code)])),
  ]);
}

describe('wasm-asm', () => {
  it('encodes LEB128 as the spec does', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });

  it('assembles a loop that runs: the sum of the first n i32 in memory', () => {
    // locals: 0 = addr, 1 = n (params), 2 = sum
    const code = [
      ...countedLoop(1, [...get(2), ...get(0), ...load32(), op.i32Add, ...set(2), ...get(0), ...i32(4), op.i32Add, ...set(0)]),
      ...get(2),
    ];
    const mod = compileModule(moduleOf([I32, I32], [I32], [[1, I32]], code));
    expect(mod).not.toBeNull();
    const memory = newMemory(1, 2);
    new Int32Array(memory.buffer, 0, 10).set([1, 2, 3, 4, 5, 6, 7, 8, 9, -10]);
    const { f } = instantiate<{ f: (addr: number, n: number) => number }>(mod!, memory);
    expect(f(0, 9)).toBe(45);
    expect(f(0, 10)).toBe(35);
    expect(f(8, 2)).toBe(7);
  });

  it('assembles SIMD and an early return: f32x4 splat stored into shared memory', () => {
    // f(addr, v): if v == 0 return 0; store splat(v) at addr; return 1
    const code = [
      ...when([...get(1), op.i32Eqz], i32(0), [op.return]),
      ...get(0),
      ...get(1),
      op.f32ConvertI32S,
      ...simd(0x13), // f32x4.splat
      ...simd(0x0b, 4, 0), // v128.store align=16 offset=0
      ...i32(1),
    ];
    const mod = compileModule(moduleOf([I32, I32], [I32], [[1, V128]], code, true));
    expect(mod).not.toBeNull();
    const memory = newSharedMemory(WASM_PAGE_BYTES);
    expect(memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    const { f } = instantiate<{ f: (addr: number, v: number) => number }>(mod!, memory);
    expect(f(16, 3)).toBe(1);
    expect([...new Float32Array(memory.buffer, 16, 4)]).toEqual([3, 3, 3, 3]);
    expect(f(32, 0)).toBe(0);
    expect([...new Float32Array(memory.buffer, 32, 4)]).toEqual([0, 0, 0, 0]);
    // storeF32 and F32 are the scalar counterparts the kernels use.
    expect(storeF32(8)).toEqual([0x38, 2, 8]);
    expect(F32).toBe(0x7d);
  });

  it('rejects bytes that are not a valid module instead of throwing', () => {
    expect(compileModule(new Uint8Array([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]))).toBeNull();
  });
});
