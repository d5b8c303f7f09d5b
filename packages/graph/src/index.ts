export { BehaviourGraph } from './behaviour-graph';
export type {
  BehaviourGraphOptions,
  CoOccurrence,
  CoOccurrenceQuery,
  GraphDelta,
  GraphStats,
  NodeKind,
  NodeRef,
} from './behaviour-graph';
export { compileFastRPOptions } from './fastrp-options';
export type { CompiledFastRPOptions, FastRPOptions } from './fastrp-options';
export { closeFastRPWorkers, fastRP } from './fastrp';
export type { CsrGraph, FastRPResult } from './fastrp';
export { IncrementalFastRP } from './incremental-fastrp';
export type { FullRecomputeResult, IncrementalFastRPOptions, UpdateResult } from './incremental-fastrp';
export { fillProjectionRow, nodeSeed } from './internal/random-projection';
export { joinChunks, splitChunks } from './internal/snapshot-codec';
