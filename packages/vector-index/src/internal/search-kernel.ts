import { F32, I32, block, br, brIf, f32, funcBody, get, i32, load16u, load32, load8u, loadF32, loop, op, set, store16, store32, storeF32, tee, when, addConst, type Code } from '@affinity/wasm-asm';

/**
 * Byte offsets of the search context: the region addresses of the graph store, written by JS
 * whenever the layout changes and read once per call.
 */
export const CTX = {
  rowsBase: 0,
  rowBytes: 4,
  n16: 8,
  linksBase: 12,
  linkBytes: 16,
  stateBase: 20,
  tagsBase: 24,
  filterBase: 28,
  resBase: 32,
  candBase: 36,
  candCap: 40,
  idsBase: 44,
  // rowsBase…idsBase are read in this order into consecutive locals (searchLevel0Body).
  /** Sink for the touched words (keeps those loads alive). */
  sink: 48,
  bytes: 64,
} as const;

/** Slot state meaning "admissible" (LIVE in hnsw-graph). */
const LIVE = 1;

// Parameters.
const Q = 0; // query row address
const EP = 1; // entry slot
const EP_SIM = 2; // f32: query · entry row
const EF = 3;
const FILTERED = 4; // 0: admit every live slot; 1: only slots whose filter bit is set
const EPOCH = 5; // visited tag of this traversal
const CTX_ADDR = 6;
// i32 locals: the context, then working variables.
const ROWS = 7;
const ROW_BYTES = 8;
const N16 = 9;
const LINKS = 10;
const LINK_BYTES = 11;
const STATE = 12;
const TAGS = 13;
const FILTER = 14;
const RES = 15;
const CAND = 16;
const CAND_CAP = 17;
const IDS = 18;
const CAND_N = 19;
const RES_N = 20;
const LIST = 21;
const END = 22;
const J = 23;
const N = 24;
const NB = 25;
const TOUCHED = 26;
const I = 27;
const CHILD = 28;
const VAL = 29;
const TOP = 30;
const SORT_N = 31;
const I32_LOCALS = SORT_N - ROWS + 1;
// f32 locals.
const BOUND = 32;
const S = 33;
const KEY = 34;
const KS = 35;
const F32_LOCALS = 4;

/** Address of entry `idx` (a local) of the heap at `base` (a local): base + idx * 8. */
const entry = (base: number, idx: number): Code => [...get(base), ...get(idx), ...i32(3), op.i32Shl, op.i32Add];

/**
 * Binary heap of (f32 key, u32 value) entries, 8 bytes each. `stop` is the comparison under which
 * a parent stays above its child; `better` picks which child rises. With keys = similarities,
 * the candidate heap is a max-heap and the result heap a min-heap: the mirror images of the
 * distance heaps in hnsw-graph.ts (PairHeap), with the same comparisons, so both paths visit
 * and return the same nodes in the same order.
 */
function heap(base: number, size: number, stop: { push: number; pop: number }, better: number) {
  /** entry[I] = (KS, value of entry[CHILD]); I = CHILD. */
  const moveUp: Code = [...entry(base, I), ...get(KS), ...storeF32(), ...entry(base, I), ...entry(base, CHILD), ...load32(4), ...store32(4), ...get(CHILD), ...set(I)];
  /** entry[I] = (key, val). */
  const put = (key: number, val: number): Code => [...entry(base, I), ...get(key), ...storeF32(), ...entry(base, I), ...get(val), ...store32(4)];
  return {
    /** Inserts (key local, value local). Uses I, CHILD, KS. */
    push: (key: number, val: number): Code => [
      ...get(size),
      ...set(I),
      ...addConst(size, 1),
      ...block(
        loop(
          get(I),
          [op.i32Eqz],
          brIf(1),
          get(I),
          i32(1),
          [op.i32Sub],
          i32(1),
          [op.i32ShrU],
          set(CHILD), // parent
          entry(base, CHILD),
          loadF32(),
          tee(KS),
          get(key),
          [stop.push],
          brIf(1),
          moveUp,
          br(0),
        ),
      ),
      ...put(key, val),
    ],
    /** Removes the top (read it first). Uses KEY, VAL, I, CHILD, KS. */
    pop: (): Code => [
      ...addConst(size, -1),
      ...when(
        get(size),
        entry(base, size),
        loadF32(),
        set(KEY),
        entry(base, size),
        load32(4),
        set(VAL),
        i32(0),
        set(I),
        block(
          loop(
            get(I),
            i32(1),
            [op.i32Shl],
            i32(1),
            [op.i32Add],
            tee(CHILD),
            get(size),
            [op.i32GeU],
            brIf(1),
            when(
              [...get(CHILD), ...i32(1), op.i32Add, ...get(size), op.i32LtU],
              when([...entry(base, CHILD), ...loadF32(8), ...entry(base, CHILD), ...loadF32(), better], addConst(CHILD, 1)),
            ),
            entry(base, CHILD),
            loadF32(),
            tee(KS),
            get(KEY),
            [stop.pop],
            brIf(1),
            moveUp,
            br(0),
          ),
        ),
        put(KEY, VAL),
      ),
    ],
  };
}

/** state[slot] == LIVE && (!filtered || filter bit of slot). */
const admit = (slot: number): Code => [
  ...get(STATE),
  ...get(slot),
  op.i32Add,
  ...load8u(),
  ...i32(LIVE),
  op.i32Eq,
  ...get(FILTERED),
  op.i32Eqz,
  ...get(FILTER),
  ...get(slot),
  ...i32(5),
  op.i32ShrU,
  ...i32(2),
  op.i32Shl,
  op.i32Add,
  ...load32(),
  ...get(slot),
  op.i32ShrU,
  ...i32(1),
  op.i32And,
  op.i32Or,
  op.i32And,
];

const rowAddr = (slot: number): Code => [...get(ROWS), ...get(slot), ...get(ROW_BYTES), op.i32Mul, op.i32Add];
const tagAddr = (slot: number): Code => [...get(TAGS), ...get(slot), ...i32(1), op.i32Shl, op.i32Add];

/**
 * `searchLevel0(q, ep, epSim, ef, filtered, epoch, ctx) -> i32`: the best-first search of layer 0
 * (Malkov & Yashunin, Algorithm 2) in one call, the loop of HnswGraph.searchLayer without a
 * JS↔wasm crossing per expansion. Distances are similarities s = q·row (cosine distance 1 − s).
 * Per expanded node: mark its unvisited neighbours, touch their rows' first cache line (see
 * dotMany), then compute their similarities and update the heaps. Returns the number of results,
 * left at resBase sorted best first (heapsort of the result heap), or −1 when the candidate heap
 * (candCap entries) is full: the caller grows it and searches again.
 */
export function searchLevel0Body(dotFunc: number): Code {
  const cand = heap(CAND, CAND_N, { push: op.f32Ge, pop: op.f32Le }, op.f32Gt);
  const res = heap(RES, RES_N, { push: op.f32Le, pop: op.f32Ge }, op.f32Lt);
  const sorted = heap(RES, SORT_N, { push: op.f32Le, pop: op.f32Ge }, op.f32Lt);
  const code: Code[] = [
    // Context fields rowsBase…idsBase (4 bytes apart, in the order of CTX) into locals ROWS…IDS.
    ...Array.from({ length: IDS - ROWS + 1 }, (_, i) => [...get(CTX_ADDR), ...load32(4 * i), ...set(ROWS + i)]),
    // Visit the entry point; it is a candidate and, if admitted, a result.
    tagAddr(EP),
    get(EPOCH),
    store16(),
    get(EP_SIM),
    set(S),
    get(EP),
    set(NB),
    cand.push(S, NB),
    when(admit(NB), res.push(S, NB)),
    // bound = the worst result's similarity once ef results are in, else -inf.
    get(EP_SIM),
    f32(-Infinity),
    get(RES_N),
    get(EF),
    [op.i32GeS],
    [op.select],
    set(BOUND),
    block(
      loop(
        get(CAND_N),
        [op.i32Eqz],
        brIf(1),
        get(CAND),
        loadF32(),
        get(BOUND),
        [op.f32Lt],
        brIf(1),
        get(CAND),
        load32(4),
        set(TOP),
        cand.pop(),
        // Unvisited neighbours of TOP into ids[0..N), touching their rows.
        get(LINKS),
        get(TOP),
        get(LINK_BYTES),
        [op.i32Mul],
        [op.i32Add],
        tee(LIST),
        load32(),
        i32(2),
        [op.i32Shl],
        get(LIST),
        [op.i32Add],
        set(END),
        i32(0),
        set(N),
        block(
          loop(
            get(LIST),
            get(END),
            [op.i32GeU],
            brIf(1),
            addConst(LIST, 4),
            get(LIST),
            load32(),
            set(NB),
            when(
              [...tagAddr(NB), ...load16u(), ...get(EPOCH), op.i32Ne],
              tagAddr(NB),
              get(EPOCH),
              store16(),
              get(IDS),
              get(N),
              i32(2),
              [op.i32Shl],
              [op.i32Add],
              get(NB),
              store32(),
              addConst(N, 1),
              get(TOUCHED),
              rowAddr(NB),
              load32(),
              [op.i32Xor],
              set(TOUCHED),
            ),
            br(0),
          ),
        ),
        i32(0),
        set(J),
        block(
          loop(
            get(J),
            get(N),
            [op.i32GeU],
            brIf(1),
            get(IDS),
            get(J),
            i32(2),
            [op.i32Shl],
            [op.i32Add],
            load32(),
            set(NB),
            addConst(J, 1),
            get(Q),
            rowAddr(NB),
            get(N16),
            [op.call, dotFunc],
            tee(S),
            get(BOUND),
            [op.f32Le],
            brIf(0),
            when([...get(CAND_N), ...get(CAND_CAP), op.i32GeU], i32(-1), [op.return]),
            cand.push(S, NB),
            when(
              admit(NB),
              res.push(S, NB),
              when([...get(RES_N), ...get(EF), op.i32GtS], res.pop()),
              when([...get(RES_N), ...get(EF), op.i32GeS], get(RES), loadF32(), set(BOUND)),
            ),
            br(0),
          ),
        ),
        br(0),
      ),
    ),
    get(CTX_ADDR),
    get(TOUCHED),
    store32(CTX.sink),
    // Heapsort: pop the worst to the end until one is left; the results end best first.
    get(RES_N),
    set(SORT_N),
    block(
      loop(
        get(SORT_N),
        i32(1),
        [op.i32LeU],
        brIf(1),
        get(RES),
        loadF32(),
        set(S),
        get(RES),
        load32(4),
        set(TOP),
        sorted.pop(),
        entry(RES, SORT_N),
        get(S),
        storeF32(),
        entry(RES, SORT_N),
        get(TOP),
        store32(4),
        br(0),
      ),
    ),
    get(RES_N),
  ];
  return funcBody(
    [
      [I32_LOCALS, I32],
      [F32_LOCALS, F32],
    ],
    code.flat(),
  );
}

/** (i32 q, i32 ep, f32 epSim, i32 ef, i32 filtered, i32 epoch, i32 ctx) -> i32 */
export const SEARCH_LEVEL0_TYPE: Code = [0x60, 7, I32, I32, F32, I32, I32, I32, I32, 1, I32];
