/** Contextual title word vectors for the attribute benchmarks, from the enricher's embedding model. */
import { titleWords, type GoldExample } from '@affinity/attributes';
import { DEFAULT_MODEL_ID, Embedder } from '@affinity/embeddings';

export interface TitleWordVectors {
  model: string;
  dim: number;
  /** Aligned with the examples. */
  vectors: Float32Array[];
  /** Wall time of embedding every title, ms. */
  ms: number;
}

export async function embedTitleWords(examples: readonly GoldExample[], model: string = DEFAULT_MODEL_ID): Promise<TitleWordVectors> {
  const embedder = await Embedder.create({ model });
  try {
    const t0 = performance.now();
    const vectors = await embedder.embedWordsInContext(examples.map((e) => titleWords(e.title)));
    return { model, dim: embedder.dim, vectors, ms: performance.now() - t0 };
  } finally {
    await embedder.close();
  }
}
