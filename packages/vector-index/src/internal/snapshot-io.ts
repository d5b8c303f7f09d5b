import { createHash, randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SnapshotError } from '../snapshot-error';

/**
 * File layout (all integers little-endian):
 *
 *   "AFVS" | u32 format version | u32 header length | header (UTF-8 JSON) |
 *   section 0 | section 1 | ... | sha256 of every preceding byte (32 bytes)
 *
 * The header lists the sections by name and byte length in file order, so a reader knows
 * every offset before reading any payload, and can read the header alone.
 */
export const MAGIC = 'AFVS';
export const FORMAT_VERSION = 1;
const PREFIX_BYTES = 12;
const TRAILER_BYTES = 32;
/** Rows are streamed in pieces of this size, copied out of wasm memory first (it may grow meanwhile). */
const IO_CHUNK = 8 * 1024 * 1024;

export interface SectionSpec {
  name: string;
  bytes: number;
}

export interface SnapshotHeaderBase {
  format: 'affinity.vector-shard';
  sections: SectionSpec[];
}

/** Rows read from or written to a store in pieces; `view` must be called again after any await. */
export interface RowWindow {
  bytes: number;
  view(from: number, to: number): Uint8Array;
}

export type SectionSource = Uint8Array | RowWindow;

function isWindow(s: SectionSource): s is RowWindow {
  return !(s instanceof Uint8Array);
}

export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

async function writeAll(fh: FileHandle, buf: Uint8Array): Promise<void> {
  let done = 0;
  while (done < buf.byteLength) {
    const { bytesWritten } = await fh.write(buf, done, buf.byteLength - done);
    done += bytesWritten;
  }
}

async function readExactly(fh: FileHandle, into: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < into.byteLength) {
    const { bytesRead } = await fh.read(into, done, into.byteLength - done, position + done);
    if (bytesRead === 0) throw new SnapshotError(`snapshot ends early at byte ${position + done}`);
    done += bytesRead;
  }
}

/**
 * Writes the snapshot atomically: a temp file in the same directory, fsync, rename over
 * `path`, fsync of the directory. A crash leaves either the old file or the new one, never
 * a torn one; a stale temp file is the only possible leftover.
 */
export async function writeSnapshotFile(
  path: string,
  header: Omit<SnapshotHeaderBase, 'sections'> & Record<string, unknown>,
  sections: [string, SectionSource][],
): Promise<{ bytes: number; sha256: string }> {
  const specs: SectionSpec[] = sections.map(([name, s]) => ({ name, bytes: isWindow(s) ? s.bytes : s.byteLength }));
  const headerBytes = Buffer.from(JSON.stringify({ ...header, sections: specs }), 'utf8');
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(FORMAT_VERSION, 4);
  prefix.writeUInt32LE(headerBytes.byteLength, 8);
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const hash = createHash('sha256');
  let total = 0;
  const fh = await open(tmp, 'wx');
  try {
    const put = async (buf: Uint8Array): Promise<void> => {
      hash.update(buf);
      total += buf.byteLength;
      await writeAll(fh, buf);
    };
    await put(prefix);
    await put(headerBytes);
    for (const [, s] of sections) {
      if (!isWindow(s)) {
        await put(s);
        continue;
      }
      for (let from = 0; from < s.bytes; from += IO_CHUNK) {
        await put(Buffer.from(s.view(from, Math.min(s.bytes, from + IO_CHUNK))));
      }
    }
    const digest = hash.digest();
    await writeAll(fh, digest);
    total += digest.byteLength;
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
    await syncDir(dirname(path));
    return { bytes: total, sha256: digest.toString('hex') };
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    await dh.close();
  }
}

export async function readSnapshotHeaderRaw(path: string): Promise<{ header: Record<string, unknown> & SnapshotHeaderBase; headerEnd: number; fileBytes: number; prefix: Uint8Array; headerBytes: Uint8Array }> {
  const fh = await open(path, 'r');
  try {
    return await readHeader(fh, path);
  } finally {
    await fh.close();
  }
}

async function readHeader(fh: FileHandle, path: string) {
  const { size } = await fh.stat();
  if (size < PREFIX_BYTES + TRAILER_BYTES) throw new SnapshotError(`${path} is ${size} bytes, too small to be a shard snapshot`);
  const prefix = new Uint8Array(PREFIX_BYTES);
  await readExactly(fh, prefix, 0);
  const pb = Buffer.from(prefix);
  if (pb.toString('latin1', 0, 4) !== MAGIC) throw new SnapshotError(`${path} is not a shard snapshot (bad magic)`);
  const version = pb.readUInt32LE(4);
  if (version !== FORMAT_VERSION) throw new SnapshotError(`${path} has snapshot format ${version}; this build reads ${FORMAT_VERSION}`);
  const headerLen = pb.readUInt32LE(8);
  if (PREFIX_BYTES + headerLen + TRAILER_BYTES > size) throw new SnapshotError(`${path}: header length ${headerLen} exceeds the file`);
  const headerBytes = new Uint8Array(headerLen);
  await readExactly(fh, headerBytes, PREFIX_BYTES);
  let header: Record<string, unknown> & SnapshotHeaderBase;
  try {
    header = JSON.parse(Buffer.from(headerBytes).toString('utf8')) as Record<string, unknown> & SnapshotHeaderBase;
  } catch {
    throw new SnapshotError(`${path}: header is not valid JSON`);
  }
  if (header.format !== 'affinity.vector-shard' || !Array.isArray(header.sections)) throw new SnapshotError(`${path}: header is not a vector-shard header`);
  return { header, headerEnd: PREFIX_BYTES + headerLen, fileBytes: size, prefix, headerBytes };
}

/**
 * Reads and verifies a snapshot. `rowTarget(header)` may return a window to read one named
 * section straight into (the vector rows, to avoid a second copy); other sections come back
 * as fresh, aligned Uint8Arrays. Throws SnapshotError when the checksum or sizes disagree.
 */
export async function readSnapshotFile(
  path: string,
  rowTarget: (header: Record<string, unknown> & SnapshotHeaderBase) => { section: string; window: RowWindow } | null,
): Promise<{ header: Record<string, unknown> & SnapshotHeaderBase; sections: Map<string, Uint8Array>; sha256: string; bytes: number }> {
  const fh = await open(path, 'r');
  try {
    const { header, headerEnd, fileBytes, prefix, headerBytes } = await readHeader(fh, path);
    const expected = headerEnd + header.sections.reduce((s, x) => s + x.bytes, 0) + TRAILER_BYTES;
    if (expected !== fileBytes) throw new SnapshotError(`${path} is ${fileBytes} bytes but its header describes ${expected}`);
    const hash = createHash('sha256');
    hash.update(prefix);
    hash.update(headerBytes);
    const target = rowTarget(header);
    const sections = new Map<string, Uint8Array>();
    let pos = headerEnd;
    for (const spec of header.sections) {
      if (target && spec.name === target.section) {
        if (target.window.bytes !== spec.bytes) throw new SnapshotError(`${path}: section ${spec.name} is ${spec.bytes} bytes, expected ${target.window.bytes}`);
        for (let from = 0; from < spec.bytes; from += IO_CHUNK) {
          const to = Math.min(spec.bytes, from + IO_CHUNK);
          const chunk = new Uint8Array(to - from);
          await readExactly(fh, chunk, pos + from);
          hash.update(chunk);
          target.window.view(from, to).set(chunk);
        }
      } else {
        const buf = new Uint8Array(spec.bytes);
        await readExactly(fh, buf, pos);
        hash.update(buf);
        sections.set(spec.name, buf);
      }
      pos += spec.bytes;
    }
    const trailer = new Uint8Array(TRAILER_BYTES);
    await readExactly(fh, trailer, pos);
    const digest = hash.digest();
    if (!digest.equals(trailer)) throw new SnapshotError(`${path}: checksum mismatch (file is corrupt or truncated)`);
    return { header, sections, sha256: digest.toString('hex'), bytes: fileBytes };
  } finally {
    await fh.close();
  }
}
