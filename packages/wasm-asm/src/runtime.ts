/**
 * The slice of the WebAssembly JS API the kernels use (the repo's TS lib has no DOM types).
 * A memory is either growable (one thread) or shared with a fixed size (worker threads).
 */
export interface WasmMemory<B extends ArrayBufferLike = ArrayBufferLike> {
  readonly buffer: B;
  grow(pages: number): number;
}
export type WasmModule = object;

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}

export const WASM_PAGE_BYTES = 65_536;
/** wasm32 addresses 4 GiB at most. */
export const WASM_MAX_PAGES = 65_536;
export const WASM_MAX_BYTES = WASM_MAX_PAGES * WASM_PAGE_BYTES;

const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Compiles `bytes`, or returns null when this runtime cannot (no WebAssembly, or no SIMD/threads). */
export function compileModule(bytes: Uint8Array): WasmModule | null {
  return api !== undefined && api.validate(bytes) ? new api.Module(bytes) : null;
}

/** Instantiates a module whose only import is `env.mem`. */
export function instantiate<T>(module: WasmModule, memory: WasmMemory): T {
  if (api === undefined) throw new Error('WebAssembly is not available in this runtime');
  return new api.Instance(module, { env: { mem: memory } }).exports as T;
}

/** A growable memory of `initialPages`, at most `maximumPages`. */
export function newMemory(initialPages: number, maximumPages: number): WasmMemory<ArrayBuffer> {
  if (api === undefined) throw new Error('WebAssembly is not available in this runtime');
  return new api.Memory({ initial: initialPages, maximum: maximumPages }) as WasmMemory<ArrayBuffer>;
}

/** A shared memory of `bytes` (rounded up to pages, fixed size); its buffer is a SharedArrayBuffer. */
export function newSharedMemory(bytes: number): WasmMemory<SharedArrayBuffer> {
  if (api === undefined) throw new Error('WebAssembly is not available in this runtime');
  const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES));
  return new api.Memory({ initial: pages, maximum: pages, shared: true }) as WasmMemory<SharedArrayBuffer>;
}
