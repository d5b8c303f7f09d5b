export { VectorShard } from './vector-shard';
export type { SnapshotHeader } from './vector-shard';
export { compileVectorShardOptions } from './vector-shard-options';
export type { CompiledVectorShardOptions, VectorShardOptions } from './vector-shard-options';
export { SnapshotError } from './snapshot-error';
export { attributesFromProduct } from './attributes-from-product';
export type { ItemAttributes, OperationTiming, SearchFilter, SearchHit, SearchOptions, SearchStrategy, SnapshotInfo, SnapshotMeta, VectorShardStats } from './types';
