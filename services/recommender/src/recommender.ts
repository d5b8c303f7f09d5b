import {
  newEventId,
  recKey,
  type BehaviourEmbedding,
  type EnrichedEvent,
  type Interaction,
  type RecKind,
  type RecommendationUpdate,
} from '@affinity/contracts';
import type { ConsumedEvent, EventProducer, Logger } from '@affinity/stream';
import type { Histogram } from 'prom-client';
import type { BehaviourTable } from './behaviour-table';
import type { BuiltList, ListBuilder, RecState } from '@affinity/lists';
import type { ClaimedTrigger, Priority, TriggerQueue } from './trigger-queue';

export interface RecommenderOptions {
  state: RecState;
  builder: ListBuilder;
  behaviour: BehaviourTable;
  queue: TriggerQueue;
  producer: EventProducer;
  recsTopic: string;
  logger: Logger;
  /** Event → published list latency, per stage. */
  latency: Histogram<'kind' | 'stage'>;
  /** How long triggers for one list may wait to be merged (ms). @defaultValue 100 */
  coalesceMs?: number;
  /**
   * The same for behaviour-embedding updates: they arrive in bursts for many nodes and move
   * lists only a little, so they wait longer and merge more. @defaultValue 5000
   */
  behaviourCoalesceMs?: number;
  /** Build time per list, by kind. */
  buildSeconds?: Histogram<'kind'>;
  /** When a product is created, also refresh the similar lists of this many of its neighbours. @defaultValue 3 */
  neighbourFanout?: number;
  /** Lists computed at once by this instance. @defaultValue 4 */
  concurrency?: number;
}

interface Trigger {
  listId: string;
  eventId: string;
  ts: number;
}

const MAX_CAUSES = 100;
/** A failed recompute (a transient Redis or Kafka error) is retried this much later, not after the whole lease. */
const RETRY_FAILED_MS = 500;
/** Pseudo-kind: after `similar:X` of a new product exists, refresh its neighbours' lists too. */
const FANOUT = 'fanout';

const trigger = (kind: RecKind | typeof FANOUT, subjectId: string, e: { eventId: string; ts: number }): Trigger => ({ listId: `${kind}:${subjectId}`, eventId: e.eventId, ts: e.ts });

/**
 * Consumes events into shared state and into the queue of lists to recompute (docs/architecture.md
 * "services/recommender"); a scheduler loop beside the consumer recomputes queued lists and
 * publishes them to recs.v1 and Redis. Deletes and out-of-stock products are purged from every
 * list that holds them at once, through the reverse index, without waiting for a recompute.
 */
export class Recommender {
  private trendingDirty = false;
  private readonly fanout: number;
  private readonly coalesceMs: number;
  private readonly concurrency: number;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly o: RecommenderOptions) {
    this.fanout = o.neighbourFanout ?? 3;
    this.coalesceMs = o.coalesceMs ?? 100;
    this.concurrency = o.concurrency ?? 4;
  }

  async onEnriched(events: readonly ConsumedEvent<EnrichedEvent>[]): Promise<void> {
    const triggers: Trigger[] = [];
    const fanouts: Trigger[] = [];
    for (const e of events) {
      const v = e.value;
      const cause = { eventId: v.eventId, ts: e.timestamp };
      if (v.type === 'product.delete') {
        if (await this.o.state.deleteItem(v.productId, v.updatedAt)) {
          await this.purge(v.productId, cause);
          for (const kind of ['similar', 'complementary'] as const) await this.drop(kind, v.productId);
          await this.o.state.dropTrending(v.productId);
        }
        continue;
      }
      const r = await this.o.state.upsertItem(v, e.timestamp);
      if (r === 0) continue;
      this.o.builder.offer(v.productId, v.embedding.modelId, v.embedding.vector);
      triggers.push(trigger('similar', v.productId, cause), trigger('complementary', v.productId, cause));
      if (r === 1 && this.fanout > 0) fanouts.push(trigger(FANOUT, v.productId, cause));
      if (v.product.availability === 'out_of_stock' || v.product.availability === 'discontinued') await this.purge(v.productId, cause);
    }
    await this.schedule(triggers);
    // After the new product's own list exists and the indexer has it.
    await this.schedule(fanouts, this.coalesceMs + 1000, 'low');
  }

  async onBehaviour(events: readonly ConsumedEvent<BehaviourEmbedding>[]): Promise<void> {
    const triggers: Trigger[] = [];
    // User vectors are read per list from Redis; item vectors live in the global table (its own consumer).
    await this.o.state.setBehaviourVectors(events.filter((e) => e.value.nodeKind === 'user').map((e) => e.value));
    for (const e of events) {
      const v = e.value;
      const cause = { eventId: v.eventId, ts: e.timestamp };
      // Complementary lists follow co-purchases (their own trigger); behaviour mostly moves similar lists.
      triggers.push(v.nodeKind === 'item' ? trigger('similar', v.nodeId, cause) : trigger('personalized', v.nodeId, cause));
    }
    await this.schedule(triggers, this.o.behaviourCoalesceMs ?? 5000, 'low');
  }

  async onInteractions(events: readonly ConsumedEvent<Interaction>[]): Promise<void> {
    const triggers: Trigger[] = [];
    // Issued together (one round trip with auto-pipelining), executed by Redis in order.
    const applied = await Promise.all(events.map((e) => this.o.state.applyInteraction(e.value)));
    for (const [i, e] of events.entries()) {
      const v = e.value;
      if (!applied[i]) continue;
      this.trendingDirty = true;
      const cause = { eventId: v.eventId, ts: e.timestamp };
      triggers.push(trigger('personalized', v.userId, cause));
      if (v.type === 'purchase' || v.type === 'add_to_cart') triggers.push(trigger('complementary', v.productId, cause));
    }
    await this.schedule(triggers);
  }

  /** Republishes the trending list if interactions arrived since the last time. */
  async tickTrending(): Promise<boolean> {
    if (!this.trendingDirty) return false;
    this.trendingDirty = false;
    const list = await this.o.builder.trending('global');
    await this.publish(list, [], undefined);
    return true;
  }

  private async schedule(triggers: Trigger[], delayMs = this.coalesceMs, priority: Priority = 'high'): Promise<void> {
    if (triggers.length === 0) return;
    await this.o.queue.add(triggers, Date.now() + delayMs, priority);
    this.wake?.();
  }

  /** Starts the scheduler loop: claim due lists, recompute, publish, complete. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let claimed: ClaimedTrigger[] = [];
      try {
        claimed = await this.o.queue.claim(this.concurrency * 4);
      } catch (err) {
        this.o.logger.warn({ err }, 'claiming triggers failed');
      }
      if (claimed.length === 0) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, 50);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = undefined;
        continue;
      }
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(this.concurrency, claimed.length) }, async () => {
          while (next < claimed.length) {
            const t = claimed[next++]!;
            try {
              await this.process(t);
              await this.o.queue.complete(t);
            } catch (err) {
              // Retried soon (if this instance dies instead, the lease expires and another one does).
              this.o.logger.warn({ err, list: t.listId }, 'recompute failed; retrying shortly');
              await this.o.queue.retryAt(t, Date.now() + RETRY_FAILED_MS).catch(() => undefined);
            }
          }
        }),
      );
    }
  }

  private async process(t: ClaimedTrigger): Promise<void> {
    const sep = t.listId.indexOf(':');
    const kind = t.listId.slice(0, sep);
    const subjectId = t.listId.slice(sep + 1);
    if (kind === FANOUT) {
      await this.fanOut(subjectId, t);
      return;
    }
    const started = performance.now();
    const built = await this.build(kind as RecKind, subjectId);
    this.o.buildSeconds?.observe({ kind }, (performance.now() - started) / 1000);
    if (built === undefined) return;
    await this.publish(built, t.causes, t.causeTs);
  }

  /**
   * A new product X may belong in its neighbours' similar lists. Refresh a neighbour N only
   * if X would enter N's list: N's list is not full, or X relates to N more strongly than N's
   * weakest item (relevance is nearly symmetric, so X's own list tells). At most
   * `neighbourFanout` refreshes per product, strongest first.
   */
  private async fanOut(productId: string, t: ClaimedTrigger): Promise<void> {
    const own = await this.o.state.getList('similar', productId);
    if (!own || own.items.length === 0) return;
    const theirs = await Promise.all(own.items.map((i) => this.o.state.getList('similar', i.productId)));
    const k = this.o.builder.listLength;
    const targets = own.items.filter((item, i) => {
      const list = theirs[i];
      if (!list) return true;
      if (list.items.some((x) => x.productId === productId)) return false;
      return list.items.length < k || item.score > list.items[list.items.length - 1]!.score;
    });
    const causeId = t.causes[0] ?? productId;
    await this.schedule(
      targets.slice(0, this.fanout).map((i) => ({ listId: `similar:${i.productId}`, eventId: causeId, ts: t.causeTs ?? Date.now() })),
      0,
      'low',
    );
  }

  private build(kind: RecKind, subjectId: string): Promise<BuiltList | undefined> {
    switch (kind) {
      case 'similar':
        return this.o.builder.similar(subjectId);
      case 'complementary':
        return this.o.builder.complementary(subjectId);
      case 'personalized':
        return this.o.builder.personalized(subjectId);
      case 'trending':
        return this.o.builder.trending(subjectId);
    }
  }

  private async publish(list: BuiltList, causes: readonly string[], causeTs: number | undefined): Promise<void> {
    const generatedAt = Date.now();
    const update: RecommendationUpdate = {
      type: 'recs.update',
      eventId: newEventId(generatedAt),
      kind: list.kind,
      subjectId: list.subjectId,
      items: list.items,
      versions: { ...list.versions, ...(list.complete ? {} : { partial: 'true' }) },
      generatedAt,
      causeEventIds: causes.slice(-MAX_CAUSES),
      causeTs: causes.length > 0 ? causeTs : undefined,
    };
    const stored = await this.o.state.putList(update);
    if (!stored) return;
    await this.o.producer.send(this.o.recsTopic, [{ key: recKey(list.kind, list.subjectId), value: stored }]);
    if (update.causeTs !== undefined) this.o.latency.observe({ kind: list.kind, stage: 'ingest_to_published' }, Math.max(0, generatedAt - update.causeTs) / 1000);
  }

  /** Removes an item from every list that holds it and republishes those lists. */
  private async purge(productId: string, cause: { eventId: string; ts: number }): Promise<void> {
    for (const listId of await this.o.state.listsContaining(productId)) {
      const sep = listId.indexOf(':');
      const kind = listId.slice(0, sep) as RecKind;
      const subjectId = listId.slice(sep + 1);
      const current = await this.o.state.getList(kind, subjectId);
      if (!current) continue;
      const items = current.items.filter((i) => i.productId !== productId);
      if (items.length === current.items.length) continue;
      await this.publish({ kind, subjectId, items, versions: current.versions, complete: true }, [cause.eventId], cause.ts);
    }
  }

  private async drop(kind: RecKind, subjectId: string): Promise<void> {
    if (!(await this.o.state.dropList(kind, subjectId))) return;
    await this.o.producer.send(this.o.recsTopic, [{ key: recKey(kind, subjectId), value: null }]);
  }
}
