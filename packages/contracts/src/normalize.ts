import { z } from 'zod';

// C0/C1 control characters except tab/newline, zero-width and bidi controls: they break
// tokenizers and make two identical-looking titles hash differently.
const INVISIBLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2060-\u2064\uFEFF]/g;

/** NFC, invisible characters removed, runs of whitespace collapsed to one space, trimmed. */
export function normalizeText(input: string): string {
  return input.normalize('NFC').replace(INVISIBLE, '').replace(/\s+/g, ' ').trim();
}

/** Like {@link normalizeText} but keeps line breaks (descriptions have paragraphs). */
export function normalizeMultiline(input: string): string {
  return input
    .normalize('NFC')
    .replace(INVISIBLE, '')
    .replace(/\r\n?/g, '\n')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

// With the u flag a valid surrogate pair is one code point; only a half of one is a Surrogate.
const LONE_SURROGATE = /\p{Surrogate}/u;

/** True when `s` holds half a surrogate pair (e.g. from a JSON "\ud800" escape): not Unicode text, and unencodable as UTF-8. */
export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

const LONE_SURROGATE_MESSAGE = 'contains a lone surrogate (half of a UTF-16 pair, e.g. "\\ud800"): not valid Unicode text';

/** A single-line text field, normalized, with length bounds checked after normalization. */
export function text(min: number, max: number) {
  return z
    .string()
    .max(max * 4, `at most ${max} characters`)
    .refine((s) => !hasLoneSurrogate(s), LONE_SURROGATE_MESSAGE)
    .transform(normalizeText)
    .pipe(z.string().min(min, min === 1 ? 'must not be empty' : `at least ${min} characters`).max(max, `at most ${max} characters`));
}

export function multilineText(max: number) {
  return z
    .string()
    // A cheap cap before normalizing (which only shortens); it must name the schema's limit, not 4x it.
    .max(max * 4, `at most ${max} characters`)
    .refine((s) => !hasLoneSurrogate(s), LONE_SURROGATE_MESSAGE)
    .transform(normalizeMultiline).pipe(z.string().max(max, `at most ${max} characters`));
}

/** A new object without a prototype: user-supplied keys such as `__proto__` or `constructor` are ordinary keys in it. */
export function emptyDictionary<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

/**
 * A string-keyed map from untrusted input (`z.record` for user keys), parsed into an object
 * without a prototype. With a plain object, and with `z.record`, a key `__proto__` is lost (or
 * replaces the prototype) and lookups of keys such as `constructor` or `toString` find
 * Object.prototype's members; here every own key of the input is validated and kept as data.
 * Keys that normalize to the same key: the later one wins.
 */
export function dictionary<V extends z.ZodType>(key: z.ZodType<string, string>, value: V, options: { max?: number; what?: string } = {}) {
  const { $schema: _drop, ...valueJson } = z.toJSONSchema(value, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return z
    .custom<Record<string, z.input<V>>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'expected an object')
    .transform((raw, ctx) => {
      const out = emptyDictionary<z.output<V>>();
      const entries = Object.entries(raw);
      if (options.max !== undefined && entries.length > options.max) {
        ctx.addIssue({ code: 'custom', message: `at most ${options.max} ${options.what ?? 'entries'}` });
        return z.NEVER;
      }
      for (const [k, v] of entries) {
        const kr = key.safeParse(k);
        const vr = value.safeParse(v);
        if (!kr.success) for (const i of kr.error.issues) ctx.addIssue({ code: 'custom', path: [k], message: `key: ${i.message}` });
        if (!vr.success) for (const i of vr.error.issues) ctx.addIssue({ code: 'custom', path: [k, ...i.path], message: i.message });
        if (kr.success && vr.success) out[kr.data] = vr.data as z.output<V>;
      }
      return out;
    })
    .meta({ type: 'object', additionalProperties: valueJson, ...(options.max !== undefined ? { maxProperties: options.max } : {}) });
}

/** Identifiers: printable ASCII without spaces, so they are safe as Kafka keys and Redis key parts. */
export const Identifier = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'at most 128 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$/, 'letters, digits and . _ : @ / + - only, starting with a letter or digit');

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T/;
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** The earliest accepted time, 1990-01-01: historic logs (1997 movie ratings) are welcome, seconds mistaken for milliseconds are not. */
export const MIN_TIMESTAMP_MS = Date.UTC(1990, 0, 1);
const MAX_TIMESTAMP_MS = Date.UTC(2100, 0, 1);

/** ISO-8601 → epoch ms, refusing dates that do not exist (Date.parse turns 2024-02-30 into 1 March). */
function isoToMs(s: string, ctx: z.RefinementCtx): number {
  const ms = Date.parse(s);
  const [, y, m, d] = ISO_DATE_TIME.exec(s)!.map(Number) as [number, number, number, number];
  const days = m >= 1 && m <= 12 ? new Date(Date.UTC(y, m, 0)).getUTCDate() : 0;
  if (!Number.isNaN(ms) && d > days) {
    ctx.addIssue({ code: 'custom', message: `${s.slice(0, 10)} does not exist: ${MONTHS[m - 1]} ${y} has ${days} days` });
    return z.NEVER;
  }
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)} is not a valid date-time; use e.g. 2024-05-01T12:00:00Z` });
    return z.NEVER;
  }
  return ms;
}

/**
 * Epoch milliseconds; ISO-8601 date-time strings are accepted on input and converted. Times
 * from 1990-01-01 (historic logs are legitimate) to 2100-01-01. How far ahead of now a time may
 * be is the receiver's call (see `requireNotFuture`), not the schema's: replays of old
 * records must keep parsing.
 */
const notATime = (input: unknown): string =>
  `${input === undefined ? 'required' : `${JSON.stringify(input).slice(0, 40)} is not a time`}: send epoch milliseconds or an ISO-8601 date-time such as 2024-05-01T12:00:00Z`;

export const Timestamp = z
  .union([z.number(), z.string().max(64, { error: (iss) => notATime(iss.input), abort: true }).regex(ISO_DATE_TIME, { error: (iss) => notATime(iss.input) })], {
    error: (iss) => notATime(iss.input),
  })
  .transform((v, ctx) => (typeof v === 'number' ? v : isoToMs(v, ctx)))
  .pipe(
    z
      .number()
      .int('whole epoch milliseconds')
      .min(MIN_TIMESTAMP_MS, 'before 1990-01-01: expected epoch milliseconds (a time in seconds, such as 1700000000, reads as January 1970)')
      .max(MAX_TIMESTAMP_MS, 'after 2100-01-01: expected epoch milliseconds (not microseconds or nanoseconds)'),
  );
