export { IndexRouter } from './index-router';
export type { IndexRouterOptions, RoutedResult, RoutedSearch } from './index-router';
export { KnnFilter, KnnHit, KnnRequest, KnnResponse } from './knn-protocol';
export type { KnnRequestInput } from './knn-protocol';
