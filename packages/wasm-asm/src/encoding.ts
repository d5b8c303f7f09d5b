/**
 * Just enough of the WebAssembly binary encoding to write the kernels by hand (no build step,
 * no toolchain): LEB128, opcodes, locals, structured control flow and sections.
 * Code is `number[]` bytes; helpers return byte arrays to be spread into a function body.
 */

export type Code = number[];

export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

export const op = {
  return: 0x0f,
  call: 0x10,
  select: 0x1b,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32Ne: 0x47,
  i32LtU: 0x49,
  i32GtS: 0x4a,
  i32GtU: 0x4b,
  i32LeU: 0x4d,
  i32GeS: 0x4e,
  i32GeU: 0x4f,
  f32Lt: 0x5d,
  f32Gt: 0x5e,
  f32Le: 0x5f,
  f32Ge: 0x60,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Or: 0x72,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i32ShrU: 0x76,
  f32Add: 0x92,
  f32ConvertI32S: 0xb2,
} as const;

export const get = (i: number): Code => [0x20, ...uleb(i)];
export const set = (i: number): Code => [0x21, ...uleb(i)];
export const tee = (i: number): Code => [0x22, ...uleb(i)];
export const i32 = (n: number): Code => [0x41, ...sleb(n)];
export function f32(x: number): Code {
  return [0x43, ...new Uint8Array(Float32Array.of(x).buffer)];
}

// Memory access: opcode, log2 alignment, offset immediate.
export const load32 = (offset = 0): Code => [0x28, 2, ...uleb(offset)];
export const loadF32 = (offset = 0): Code => [0x2a, 2, ...uleb(offset)];
export const load8u = (offset = 0): Code => [0x2d, 0, ...uleb(offset)];
export const load16u = (offset = 0): Code => [0x2f, 1, ...uleb(offset)];
export const store32 = (offset = 0): Code => [0x36, 2, ...uleb(offset)];
export const storeF32 = (offset = 0): Code => [0x38, 2, ...uleb(offset)];
export const store16 = (offset = 0): Code => [0x3b, 1, ...uleb(offset)];

/** `local += delta` */
export const addConst = (local: number, delta: number): Code => [...get(local), ...i32(delta), op.i32Add, ...set(local)];

// Structured control. Branch depths are relative: inside `loop(...)` of `block(loop(...))`,
// `br(0)` continues and `br(1)` breaks; every `if` in between adds one.
export const block = (...body: Code[]): Code => [0x02, 0x40, ...body.flat(), 0x0b];
export const loop = (...body: Code[]): Code => [0x03, 0x40, ...body.flat(), 0x0b];
export const when = (cond: Code, ...then: Code[]): Code => [...cond, 0x04, 0x40, ...then.flat(), 0x0b];
export const br = (depth: number): Code => [0x0c, ...uleb(depth)];
export const brIf = (depth: number): Code => [0x0d, ...uleb(depth)];

/** `block loop (break if counter == 0) body... counter-- continue end end` */
export const countedLoop = (counter: number, body: Code): Code => block(loop(get(counter), [op.i32Eqz], brIf(1), body, addConst(counter, -1), br(0)));

export const simd = (code: number, ...imm: number[]): Code => [0xfd, ...uleb(code), ...imm];

export function section(id: number, payload: Code): Code {
  return [id, ...uleb(payload.length), ...payload];
}

export function vec(items: Code[]): Code {
  return [...uleb(items.length), ...items.flat()];
}

export function funcBody(locals: [count: number, type: number][], code: Code): Code {
  const body = [...vec(locals.map(([c, t]) => [...uleb(c), t])), ...code, 0x0b];
  return [...uleb(body.length), ...body];
}

export function name(s: string): Code {
  const bytes = [...Buffer.from(s, 'utf8')];
  return [...uleb(bytes.length), ...bytes];
}
