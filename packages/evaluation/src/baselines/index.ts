import type { MethodSpec } from '../run';
import { EaseBaseline } from './ease';
import { Item2VecBaseline } from './item2vec';
import { CoCountBaseline, ItemKnnBaseline, PopularityBaseline, type HistoryPolicy } from './matrix-baseline';

export { ContextMatrix } from './contexts';
export type { ContextKind } from './contexts';
export { EaseBaseline } from './ease';
export { Item2VecBaseline } from './item2vec';
export { CoCountBaseline, ItemKnnBaseline, MatrixBaseline, PopularityBaseline } from './matrix-baseline';

const HISTORY: readonly HistoryPolicy[] = ['exclude', 'include'];

/**
 * The baselines every evaluation runs, each a family whose settings (whether a personalized
 * list may repeat the shopper's items; EASE's λ) are chosen per task on the validation split.
 */
export function baselineFamilies(): MethodSpec[] {
  return [
    { name: 'popularity', variants: () => HISTORY.map((history) => new PopularityBaseline({ history })) },
    { name: 'co-occurrence counts', variants: () => HISTORY.map((history) => new CoCountBaseline({ history })) },
    { name: 'ItemKNN (cosine)', variants: () => HISTORY.map((history) => new ItemKnnBaseline({ history })) },
    { name: 'EASE^R', variants: () => [0.25, 1, 4].flatMap((lambdaFactor) => HISTORY.map((history) => new EaseBaseline({ lambdaFactor, history }))) },
    { name: 'item2vec (SGNS, in·in)', variants: () => HISTORY.map((history) => new Item2VecBaseline({ mode: 'in-in', history })) },
    { name: 'dual embeddings (SGNS, in·out)', variants: () => HISTORY.map((history) => new Item2VecBaseline({ mode: 'in-out', history })) },
  ];
}
