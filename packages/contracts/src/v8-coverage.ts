/** One counted range of V8 precise coverage; offsets are UTF-16 code units into the script source. */
export interface V8CoverageRange {
  startOffset: number;
  endOffset: number;
  count: number;
}

/** What offsetCountsOf reads of a script's coverage: its functions' ranges. */
export interface V8CoveredScript {
  readonly functions: readonly { readonly ranges: readonly V8CoverageRange[] }[];
}

/**
 * Execution count per source offset of one script's V8 precise coverage; -1 where no range applies.
 *
 * V8 ranges nest (the script's top-level range, functions inside it, blocks inside those) and the
 * innermost range containing an offset decides its count; of ranges with equal extent the one reported
 * later (a block after its function) wins. The sandbox maps these counts through source maps, fault
 * localization onto source lines; both read them from here so they agree on what ran.
 */
export function offsetCountsOf<Script extends V8CoveredScript>(script: Script, length: number): Float64Array {
  const ordered = script.functions
    .flatMap((fn) => fn.ranges)
    .map((range, order) => ({ range, order }))
    // Stable: outer ranges first, so painting in order leaves each offset with its innermost range.
    .sort((a, b) => a.range.startOffset - b.range.startOffset || b.range.endOffset - a.range.endOffset || a.order - b.order);
  const counts = new Float64Array(length).fill(-1);
  for (const { range } of ordered) counts.fill(range.count, Math.max(0, range.startOffset), Math.min(length, range.endOffset));
  return counts;
}
