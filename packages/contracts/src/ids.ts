import { createHash, randomBytes } from 'node:crypto';

let lastMs = 0;
let seq = 0;

/**
 * A new time-ordered event id (UUIDv7, RFC 9562): sortable by creation time, so ids in
 * logs and DLQ records read in order, and unique without coordination.
 */
export function newEventId(now: number = Date.now()): string {
  // 12-bit sequence in rand_a keeps ids from one process monotonic within a millisecond.
  if (now === lastMs) seq = (seq + 1) & 0xfff;
  else {
    lastMs = now;
    seq = randomBytes(2).readUInt16BE(0) & 0x7ff;
  }
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (seq >> 8);
  b[7] = seq & 0xff;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * A deterministic id for an event derived from others: the same inputs always give the
 * same id, so a replayed derivation is deduplicated downstream like the original.
 */
export function derivedEventId(kind: string, ...parts: readonly string[]): string {
  const h = createHash('sha256');
  h.update(kind);
  for (const p of parts) {
    h.update('\u0000');
    h.update(p);
  }
  return `${kind}-${h.digest('hex').slice(0, 32)}`;
}

/** sha256 hex of a string (content hashes) or of bytes. */
export function sha256Hex(s: string | Uint8Array): string {
  return createHash('sha256').update(s).digest('hex');
}
