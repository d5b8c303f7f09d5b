import { emptyDictionary } from '@affinity/contracts';
import type { IHeaders } from 'kafkajs';

/** kafkajs headers (Buffer | string | arrays) → first value of each, as UTF-8 strings. */
const NONE: Record<string, string> = Object.freeze(emptyDictionary<string>());

export function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  // Most records carry no headers: share one frozen empty object instead of allocating per event.
  if (!headers) return NONE;
  let out: Record<string, string> | undefined;
  for (const [k, v] of Object.entries(headers)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first === undefined) continue;
    out ??= emptyDictionary<string>(); // header names are the producer's: `__proto__` is a name like any other
    out[k] = typeof first === 'string' ? first : first.toString('utf8');
  }
  return out ?? NONE;
}
