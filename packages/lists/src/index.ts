export { BehaviourVectors } from './behaviour-vectors';
export { LocalContentIndex } from './content-index';
export type { ContentIndex, ContentQuery } from './content-index';
export { refreshLinearModel } from './linear-model';
export type { LinearModelOptions, LinearModelResult } from './linear-model';
export { ListBuilder } from './list-builder';
export type { BuiltList, GatheredList, ListBuilderOptions } from './list-builder';
export { RecState, categoryKey } from './rec-state';
export type { CoOccurrenceKind, LinearRow, NeighbourRow, RecStateOptions, RecentInteraction, StoredItem } from './rec-state';
