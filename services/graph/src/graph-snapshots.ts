import { BehaviourGraph, IncrementalFastRP, joinChunks, splitChunks, type IncrementalFastRPOptions } from '@affinity/graph';
import { LuaScript, type KeySpace, type Redis } from '@affinity/store';

interface Manifest {
  gen: string;
  /** Next offset to consume per partition of interactions.v1. */
  offsets: Record<string, string>;
  graphChunks: number;
  fastrpChunks: number;
  createdAt: number;
  nodes: number;
  /** The instance that wrote it. */
  instance: string;
}

// Publishes a manifest only while we still hold the lease (fencing a paused old leader) and
// only if it is newer than the current one of the same instance (a slow save must never
// replace a newer snapshot),
// then removes the generation that lost. KEYS: manifest, lease. ARGV: manifest JSON,
// instance, chunk key prefix, new generation.
const COMMIT = new LuaScript(`
local function drop(m)
  for i = 0, m.graphChunks - 1 do redis.call('DEL', ARGV[3] .. m.gen .. ':g:' .. i) end
  for i = 0, m.fastrpChunks - 1 do redis.call('DEL', ARGV[3] .. m.gen .. ':f:' .. i) end
end
local new = cjson.decode(ARGV[1])
if redis.call('GET', KEYS[2]) ~= ARGV[2] then drop(new) return 0 end
local old = redis.call('GET', KEYS[1])
local ok, m = false, nil
if old then ok, m = pcall(cjson.decode, old) end
-- Generations are compared only within one instance: clocks of different hosts may disagree.
if ok and m.instance == ARGV[2] and tonumber(m.gen) >= tonumber(ARGV[4]) then drop(new) return -1 end
redis.call('SET', KEYS[1], ARGV[1])
if ok then drop(m) end
return 1
`);

export type SaveOutcome = 'saved' | 'lease-lost' | 'superseded';

/**
 * The graph worker's durable state in Redis: the behaviour graph and FastRP state as chunked
 * buffers of one generation, and a manifest naming the generation and the interaction
 * offsets it reflects. A new generation's chunks are written first; the manifest switch is
 * one atomic step, so a crash mid-write leaves the previous snapshot intact.
 */
export class GraphSnapshots {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly leaseKey: string,
    private readonly instance: string,
  ) {}

  private lastGen = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private inFlight = 0;

  private chunkKey(gen: string, part: 'g' | 'f', i: number): string {
    return this.keys.key('graph', 'snap', gen, part, i);
  }

  /**
   * Saves the graph, the FastRP state and the offsets they reflect. Saves run one at a time: a
   * call while one is writing waits for it, then captures the then-current state. All three
   * are captured in one synchronous step, before any await: the handler keeps applying events
   * while the chunks are written, and offsets read later would claim events the saved graph
   * lacks (a restore would then skip them).
   */
  save(graph: BehaviourGraph, fastrp: IncrementalFastRP, offsets: ReadonlyMap<number, string>): Promise<SaveOutcome> {
    // Idle: write now, so the state is captured at this call. Busy: after the save in flight.
    const run = this.inFlight === 0 ? this.write(graph, fastrp, offsets) : this.queue.then(() => this.write(graph, fastrp, offsets));
    this.inFlight++;
    this.queue = run.catch(() => undefined).finally(() => this.inFlight--);
    return run;
  }

  private async write(graph: BehaviourGraph, fastrp: IncrementalFastRP, offsets: ReadonlyMap<number, string>): Promise<SaveOutcome> {
    const gen = String(Math.max(Date.now(), this.lastGen + 1));
    this.lastGen = Number(gen);
    const g = graph.snapshotChunks();
    const f = splitChunks(fastrp.snapshot(), 8 * 1024 * 1024);
    const manifest: Manifest = { gen, offsets: Object.fromEntries(offsets), graphChunks: g.length, fastrpChunks: f.length, createdAt: Date.now(), nodes: graph.nodeCount, instance: this.instance };
    const p = this.redis.pipeline();
    g.forEach((c, i) => p.set(this.chunkKey(gen, 'g', i), c));
    f.forEach((c, i) => p.set(this.chunkKey(gen, 'f', i), c));
    await p.exec();
    const r = (await COMMIT.run(this.redis, [this.keys.key('graph', 'manifest'), this.leaseKey], [JSON.stringify(manifest), this.instance, this.keys.key('graph', 'snap', ''), gen])) as number;
    return r === 1 ? 'saved' : r === 0 ? 'lease-lost' : 'superseded';
  }

  /** The newest snapshot, or undefined when there is none (then the whole topic is replayed). */
  async load(fastrpOptions: IncrementalFastRPOptions): Promise<{ graph: BehaviourGraph; fastrp: IncrementalFastRP; offsets: Map<number, string> } | undefined> {
    const raw = await this.redis.get(this.keys.key('graph', 'manifest'));
    if (!raw) return undefined;
    const m = JSON.parse(raw) as Manifest;
    const read = async (part: 'g' | 'f', n: number): Promise<Buffer[]> => {
      const bufs = n === 0 ? [] : await this.redis.mgetBuffer(...Array.from({ length: n }, (_, i) => this.chunkKey(m.gen, part, i)));
      if (bufs.some((b) => b === null)) throw new Error(`graph snapshot ${m.gen} is incomplete`);
      return bufs as Buffer[];
    };
    const graph = BehaviourGraph.fromChunks(await read('g', m.graphChunks));
    const fastrp = IncrementalFastRP.restore(graph, joinChunks(await read('f', m.fastrpChunks)), fastrpOptions);
    return { graph, fastrp, offsets: new Map(Object.entries(m.offsets).map(([p, o]) => [Number(p), o])) };
  }
}
