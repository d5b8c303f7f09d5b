/**
 * Throughput of the stream runtime (BatchConsumer: decode + zod validation + handler +
 * explicit commits) against a bare kafkajs consumer on the same topic, in the same run.
 *
 *   ./dev bench stream [--events 200000] [--rounds 3]
 *
 * Input: N interaction events (seeded, ~230 bytes each) on a 6-partition topic. Rounds
 * alternate bare / runtime with fresh consumer groups reading from the beginning, so both
 * read the same bytes from the page cache; medians of the rounds are compared.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { decodeInteraction, encodeJson, ensureTopics, topicSpecs, topicName } from '@affinity/contracts';
import { BatchConsumer, EventProducer, createLogger } from '@affinity/stream';
import { Kafka, logLevel } from 'kafkajs';
import { environment, median, writeResults } from '../support/report';

const { values } = parseArgs({ options: { events: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '3' } } });
const N = Number(values.events);
const ROUNDS = Number(values.rounds);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const prefix = `bench-${randomBytes(3).toString('hex')}.`;
const topic = topicName('interactions', { prefix });
const kafka = new Kafka({ clientId: 'bench-stream', brokers, logLevel: logLevel.NOTHING });
const logger = createLogger('bench-stream', 'silent');

async function produce(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs({ prefix, partitions: { interactions: 6 } }).filter((s) => s.name.startsWith(topic)));
  await admin.disconnect();
  const producer = new EventProducer({ kafka });
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const types = ['view', 'click', 'add_to_cart', 'purchase'] as const;
  for (let i = 0; i < N; i += 5000) {
    const records = [];
    for (let j = i; j < Math.min(N, i + 5000); j++) {
      const userId = `u${Math.floor(rnd() * 5000)}`;
      records.push({
        key: userId,
        value: { type: types[j % 4], eventId: `e-${j}`, userId, productId: `p${Math.floor(rnd() * 20000)}`, sessionId: `s${Math.floor(j / 20)}`, quantity: 1, ts: 1_700_000_000_000 + j },
      });
    }
    await producer.send(topic, records);
  }
  await producer.close();
}

/** A bare kafkajs consumer; with `decode`, it does the same per-event work as the runtime (parse + validate). */
async function bare(decode = false): Promise<number> {
  const consumer = kafka.consumer({ groupId: `${prefix}bare-${randomBytes(3).toString('hex')}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let n = 0;
  let started = 0;
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (started === 0) started = performance.now();
        if (decode) {
          for (const m of batch.messages) {
            try {
              decodeInteraction(m);
            } catch {
              // a real consumer would do something here; all bench events are valid
            }
          }
        }
        n += batch.messages.length;
        if (n >= N) resolve(performance.now() - started);
      },
    });
  });
  const ms = await done;
  await consumer.disconnect();
  return (N / ms) * 1000;
}

async function runtime(): Promise<number> {
  const producer = new EventProducer({ kafka });
  let n = 0;
  let started = 0;
  let resolveDone!: (ms: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  const consumer = new BatchConsumer({
    kafka,
    groupId: `${prefix}rt-${randomBytes(3).toString('hex')}`,
    inputs: { interactions: { topic, decode: decodeInteraction } },
    producer,
    logger,
    maxBatchSize: 5000,
    handler: async ({ events }) => {
      if (started === 0) started = performance.now();
      n += events.length;
      if (n >= N) resolveDone(performance.now() - started);
    },
  });
  await consumer.start();
  const ms = await done;
  await consumer.close();
  await producer.close();
  return (N / ms) * 1000;
}

async function main(): Promise<void> {
  console.log(`producing ${N} events to ${topic}`);
  await produce();
  // Warm the page cache and the JIT once, unmeasured.
  await bare();
  const bareRates: number[] = [];
  const decodeRates: number[] = [];
  const runtimeRates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    bareRates.push(await bare());
    decodeRates.push(await bare(true));
    runtimeRates.push(await runtime());
    console.log(`round ${r + 1}: bare ${bareRates[r]!.toFixed(0)}/s, bare+decode ${decodeRates[r]!.toFixed(0)}/s, runtime ${runtimeRates[r]!.toFixed(0)}/s`);
  }
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
  await admin.disconnect();

  const b = median(bareRates);
  const bd = median(decodeRates);
  const rt = median(runtimeRates);
  const ratio = rt / bd;
  const ratioVsCount = rt / b;
  const sample = encodeJson({ type: 'view', eventId: 'e-1', userId: 'u1', productId: 'p1', sessionId: 's1', quantity: 1, ts: 1_700_000_000_000 });
  const json = {
    benchmark: 'stream',
    environment: environment(),
    input: { events: N, partitions: 6, approxBytesPerEvent: sample.length, rounds: ROUNDS },
    bareEventsPerSec: bareRates,
    bareDecodeEventsPerSec: decodeRates,
    runtimeEventsPerSec: runtimeRates,
    medianBare: b,
    medianBareDecode: bd,
    medianRuntime: rt,
    ratio,
    ratioVsCountOnly: ratioVsCount,
    goal: 0.8,
    met: ratio >= 0.8,
  };
  const md = `# Stream runtime throughput

\`./dev bench stream\` — ${N.toLocaleString('en')} interaction events, 6 partitions, ${ROUNDS} alternating rounds, ${environment().date}.

| consumer | median events/s | rounds |
|---|---:|---|
| bare kafkajs \`eachBatch\`, count only (transport ceiling) | ${b.toFixed(0)} | ${bareRates.map((x) => x.toFixed(0)).join(', ')} |
| bare kafkajs \`eachBatch\` + the same decode/validation per event (baseline) | ${bd.toFixed(0)} | ${decodeRates.map((x) => x.toFixed(0)).join(', ')} |
| Affinity \`BatchConsumer\` (decode + validation + DLQ routing + handler + commit after effect) | ${rt.toFixed(0)} | ${runtimeRates.map((x) => x.toFixed(0)).join(', ')} |

**Runtime / bare consumer doing the same work: ${ratio.toFixed(2)}** (goal ≥ 0.80: ${ratio >= 0.8 ? 'met' : 'not met'}).
Runtime / count-only consumer: ${ratioVsCount.toFixed(2)} — the gap is JSON parsing and schema validation, which any
consumer that reads these events must pay; the count-only row is the transport ceiling, not a usable worker.
`;
  writeResults('stream', json, md);
  console.log(md);
}

await main();
