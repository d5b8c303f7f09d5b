export { AffinityHttpClient, ApiError } from './http-client';
export type { Accepted, AffinityHttpClientOptions, InteractionEventInput, ProductInput, SearchFilters, SearchResult } from './http-client';
export { KafkaEventPublisher } from './kafka-publisher';
export { RecsSubscriber } from './recs-subscriber';
export type { RecsChange, RecsSubscriberOptions } from './recs-subscriber';
export { COMMITTING_GROUPS, PipelineBacklog, describeBacklog } from './backlog';
export type { Backlog, BacklogOptions, CommittingService, GroupLag, PartitionLag, WaitOptions } from './backlog';
