/**
 * The arithmetic of the figures, once for the bench, compare and the drills (their prose is in the
 * report modules; the number formats in Report.ts).
 */

/** The median (the mean of the middle two for an even count); `undefined` for none. */
export const median = (values: ReadonlyArray<number>): number | undefined => {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** The nearest-rank `p`th percentile of ascending `sorted`; `NaN` for none. */
export const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]

/** The mean; 0 for none. */
export const mean = (values: ReadonlyArray<number>): number =>
  values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length

/** Count, min, median and max (`NaN` median and `undefined` ends for none). */
export const spread = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return { n: sorted.length, min: sorted[0], median: median(sorted) ?? NaN, max: sorted[sorted.length - 1] }
}

/** A pause for the promise-based client loops (Effect code uses `Effect.sleep`). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
