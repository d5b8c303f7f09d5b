/**
 * Orders texts by token count and cuts the order into runs of at most `maxBatchSize` texts and
 * `maxBatchTokens` padded tokens, so each run pads to a length close to all of its members'.
 * Returns the input indices of each run.
 */
export function planBatches(encodings: readonly { length: number }[], maxBatchSize: number, maxBatchTokens: number): Int32Array[] {
  const order = Array.from(encodings.keys()).sort((a, b) => (encodings[a]?.length ?? 0) - (encodings[b]?.length ?? 0) || a - b);
  const batches: Int32Array[] = [];
  let start = 0;
  while (start < order.length) {
    let end = start + 1;
    // Sorted ascending, so the newest member is the longest and sets the padded length.
    while (end < order.length && end - start < maxBatchSize && (end - start + 1) * (encodings[order[end] ?? 0]?.length ?? 0) <= maxBatchTokens) end++;
    batches.push(Int32Array.from(order.slice(start, end)));
    start = end;
  }
  return batches;
}
