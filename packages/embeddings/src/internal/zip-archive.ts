import { open, type FileHandle } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

/**
 * Just enough of a zip reader for wheels (stored or deflated members, no zip64), so fetching
 * a model needs neither `unzip` nor Python on the machine.
 */
export class ZipArchive {
  private constructor(
    private readonly file: FileHandle,
    private readonly entries: Map<string, ZipEntry>,
  ) {}

  static async open(path: string): Promise<ZipArchive> {
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      const tailLength = Math.min(size, 22 + 0xffff);
      const tail = Buffer.alloc(tailLength);
      await file.read(tail, 0, tailLength, size - tailLength);
      let eocd = -1;
      for (let i = tailLength - 22; i >= 0; i--) {
        if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
          eocd = i;
          break;
        }
      }
      if (eocd < 0) throw new Error(`${path}: not a zip archive (no end of central directory)`);
      const count = tail.readUInt16LE(eocd + 10);
      const cdSize = tail.readUInt32LE(eocd + 12);
      const cdOffset = tail.readUInt32LE(eocd + 16);
      if (cdOffset === 0xffffffff || count === 0xffff) throw new Error(`${path}: zip64 archives are not supported`);
      const cd = Buffer.alloc(cdSize);
      await file.read(cd, 0, cdSize, cdOffset);
      const entries = new Map<string, ZipEntry>();
      let p = 0;
      for (let i = 0; i < count; i++) {
        if (cd.readUInt32LE(p) !== CENTRAL_SIGNATURE) throw new Error(`${path}: corrupt central directory`);
        const nameLength = cd.readUInt16LE(p + 28);
        const extraLength = cd.readUInt16LE(p + 30);
        const commentLength = cd.readUInt16LE(p + 32);
        const name = cd.toString('utf8', p + 46, p + 46 + nameLength);
        entries.set(name, {
          name,
          method: cd.readUInt16LE(p + 10),
          compressedSize: cd.readUInt32LE(p + 20),
          size: cd.readUInt32LE(p + 24),
          localHeaderOffset: cd.readUInt32LE(p + 42),
        });
        p += 46 + nameLength + extraLength + commentLength;
      }
      return new ZipArchive(file, entries);
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  async read(name: string): Promise<Buffer> {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new Error(`zip member ${name} not found`);
    const header = Buffer.alloc(30);
    await this.file.read(header, 0, 30, entry.localHeaderOffset);
    if (header.readUInt32LE(0) !== LOCAL_SIGNATURE) throw new Error(`zip member ${name}: bad local header`);
    const dataOffset = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    const raw = Buffer.alloc(entry.compressedSize);
    await this.file.read(raw, 0, entry.compressedSize, dataOffset);
    let data: Buffer;
    if (entry.method === 0) data = raw;
    else if (entry.method === 8) data = inflateRawSync(raw);
    else throw new Error(`zip member ${name}: compression method ${entry.method} is not supported`);
    if (data.length !== entry.size) throw new Error(`zip member ${name}: ${data.length} bytes inflated, expected ${entry.size}`);
    return data;
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}
