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
import type { BuiltList, ListBuilder } from './list-builder';
import type { RecState } from './rec-state';

export interface RecommenderOptions {
  state: RecState;
  builder: ListBuilder;
  behaviour: BehaviourTable;
  producer: EventProducer;
  recsTopic: string;
  logger: Logger;
  /** Event → published list latency, per stage. */
  latency: Histogram<'kind' | 'stage'>;
  /** When a product is created, also refresh the similar lists of this many of its neighbours. @defaultValue 3 */
  neighbourFanout?: number;
}

interface Trigger {
  kind: RecKind;
  subjectId: string;
  causes: string[];
  /** Earliest ingest time (Kafka record timestamp) among the causes. */
  causeTs: number;
}

const MAX_CAUSES = 100;

/**
 * Decides which lists an event touched, updates the shared state, recomputes each touched
 * list once per batch (a batch is the natural coalescing window: under load it grows), and
 * publishes the lists to recs.v1 and Redis. Deletes and out-of-stock products are removed
 * from every list that holds them through the reverse index.
 */
export class Recommender {
  private trendingDirty = false;
  private readonly fanout: number;

  constructor(private readonly o: RecommenderOptions) {
    this.fanout = o.neighbourFanout ?? 3;
  }

  async onEnriched(events: readonly ConsumedEvent<EnrichedEvent>[]): Promise<void> {
    const triggers = new Triggers();
    const created: string[] = [];
    for (const e of events) {
      const v = e.value;
      if (v.type === 'product.delete') {
        if (await this.o.state.deleteItem(v.productId, v.updatedAt)) {
          await this.purge(v.productId, v.eventId, e.timestamp);
          for (const kind of ['similar', 'complementary'] as const) await this.drop(kind, v.productId);
          await this.o.state.dropTrending(v.productId);
        }
        continue;
      }
      const r = await this.o.state.upsertItem(v, e.timestamp);
      if (r === 0) continue;
      this.o.builder.offer(v.productId, v.embedding.modelId, v.embedding.vector);
      triggers.add('similar', v.productId, v.eventId, e.timestamp);
      triggers.add('complementary', v.productId, v.eventId, e.timestamp);
      if (r === 1) created.push(v.productId);
      if (v.product.availability === 'out_of_stock' || v.product.availability === 'discontinued') {
        await this.purge(v.productId, v.eventId, e.timestamp);
      }
    }
    const built = await this.run(triggers);
    // A new product may belong in its nearest neighbours' lists too.
    if (this.fanout > 0 && created.length > 0) {
      const more = new Triggers();
      for (const id of created) {
        const list = built.get(recKey('similar', id));
        const cause = triggers.get('similar', id)!;
        for (const item of list?.items.slice(0, this.fanout) ?? []) more.add('similar', item.productId, cause.causes[0]!, cause.causeTs);
      }
      await this.run(more);
    }
  }

  async onBehaviour(events: readonly ConsumedEvent<BehaviourEmbedding>[]): Promise<void> {
    const triggers = new Triggers();
    for (const e of events) {
      const v = e.value;
      await this.o.state.setBehaviourVector(v.nodeKind, v.nodeId, v.embedding.vector);
      if (v.nodeKind === 'item') {
        // The global table sees this record too, maybe later; apply now so the recompute uses it.
        this.o.behaviour.apply(v);
        triggers.add('similar', v.nodeId, v.eventId, e.timestamp);
        triggers.add('complementary', v.nodeId, v.eventId, e.timestamp);
      } else {
        triggers.add('personalized', v.nodeId, v.eventId, e.timestamp);
      }
    }
    await this.run(triggers);
  }

  async onInteractions(events: readonly ConsumedEvent<Interaction>[]): Promise<void> {
    const triggers = new Triggers();
    for (const e of events) {
      const v = e.value;
      if (!(await this.o.state.applyInteraction(v))) continue;
      this.trendingDirty = true;
      triggers.add('personalized', v.userId, v.eventId, e.timestamp);
      if (v.type === 'purchase' || v.type === 'add_to_cart') triggers.add('complementary', v.productId, v.eventId, e.timestamp);
    }
    await this.run(triggers);
  }

  /** Republishes the trending list if interactions arrived since the last time. */
  async tickTrending(): Promise<boolean> {
    if (!this.trendingDirty) return false;
    this.trendingDirty = false;
    const list = await this.o.builder.trending('global');
    await this.publish(list, { kind: 'trending', subjectId: 'global', causes: [], causeTs: Date.now() });
    return true;
  }

  private async run(triggers: Triggers): Promise<Map<string, BuiltList>> {
    const built = new Map<string, BuiltList>();
    for (const t of triggers.all()) {
      const list = await this.build(t.kind, t.subjectId);
      if (list === undefined) continue;
      built.set(recKey(t.kind, t.subjectId), list);
      await this.publish(list, t);
    }
    return built;
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

  private async publish(list: BuiltList, cause: Trigger): Promise<void> {
    const generatedAt = Date.now();
    const update: RecommendationUpdate = {
      type: 'recs.update',
      eventId: newEventId(generatedAt),
      kind: list.kind,
      subjectId: list.subjectId,
      items: list.items,
      versions: { ...list.versions, ...(list.complete ? {} : { partial: 'true' }) },
      generatedAt,
      causeEventIds: cause.causes.slice(0, MAX_CAUSES),
      causeTs: cause.causes.length > 0 ? cause.causeTs : undefined,
    };
    if (!(await this.o.state.putList(update))) return;
    await this.o.producer.send(this.o.recsTopic, [{ key: recKey(list.kind, list.subjectId), value: update }]);
    if (update.causeTs !== undefined) this.o.latency.observe({ kind: list.kind, stage: 'ingest_to_published' }, Math.max(0, generatedAt - update.causeTs) / 1000);
  }

  /** Removes an item from every list that holds it and republishes those lists. */
  private async purge(productId: string, causeId: string, causeTs: number): Promise<void> {
    for (const listId of await this.o.state.listsContaining(productId)) {
      const sep = listId.indexOf(':');
      const kind = listId.slice(0, sep) as RecKind;
      const subjectId = listId.slice(sep + 1);
      const current = await this.o.state.getList(kind, subjectId);
      if (!current) continue;
      const items = current.items.filter((i) => i.productId !== productId);
      if (items.length === current.items.length) continue;
      await this.publish({ kind, subjectId, items, versions: current.versions, complete: true }, { kind, subjectId, causes: [causeId], causeTs });
    }
  }

  private async drop(kind: RecKind, subjectId: string): Promise<void> {
    if (!(await this.o.state.dropList(kind, subjectId))) return;
    await this.o.producer.send(this.o.recsTopic, [{ key: recKey(kind, subjectId), value: null }]);
  }
}

/** Lists touched by a batch, each once, with every cause. */
class Triggers {
  private readonly map = new Map<string, Trigger>();

  add(kind: RecKind, subjectId: string, eventId: string, ts: number): void {
    const key = recKey(kind, subjectId);
    const t = this.map.get(key);
    if (!t) {
      this.map.set(key, { kind, subjectId, causes: [eventId], causeTs: ts });
      return;
    }
    if (t.causes.length < MAX_CAUSES) t.causes.push(eventId);
    t.causeTs = Math.min(t.causeTs, ts);
  }

  get(kind: RecKind, subjectId: string): Trigger | undefined {
    return this.map.get(recKey(kind, subjectId));
  }

  all(): Trigger[] {
    return [...this.map.values()];
  }
}
