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

/** A single-line text field, normalized, with length bounds checked after normalization. */
export function text(min: number, max: number) {
  return z
    .string()
    .max(max * 4, `at most ${max} characters`)
    .transform(normalizeText)
    .pipe(z.string().min(min, min === 1 ? 'must not be empty' : `at least ${min} characters`).max(max, `at most ${max} characters`));
}

export function multilineText(max: number) {
  return z.string().max(max * 4).transform(normalizeMultiline).pipe(z.string().max(max, `at most ${max} characters`));
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

/** Epoch milliseconds; ISO-8601 strings are accepted on input and converted. */
export const Timestamp = z
  .union([
    z.number().int().nonnegative(),
    z
      .string()
      .max(64)
      .regex(/^\d{4}-\d{2}-\d{2}T/, 'an ISO-8601 date-time')
      .transform((s, ctx) => {
        const ms = Date.parse(s);
        if (Number.isNaN(ms)) {
          ctx.addIssue({ code: 'custom', message: 'not a valid date-time' });
          return z.NEVER;
        }
        return ms;
      }),
  ])
  .pipe(
    z
      .number()
      .int()
      .min(946_684_800_000, 'before 2000-01-01')
      .max(4_102_444_800_000, 'after 2100-01-01'),
  );
