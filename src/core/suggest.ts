import { closest, distance } from 'fastest-levenshtein';

/**
 * Returns the candidate nearest to `value` by edit distance, or undefined when none is close enough to be a
 * plausible typo (more than half of the word would have to change).
 */
export function nearest(value: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const best = closest(value, [...candidates]);
  return distance(value, best) <= Math.max(2, Math.ceil(value.length / 2)) ? best : undefined;
}

/** Renders `did you mean "x"?` or, without a near candidate, the list of valid values. */
export function didYouMean(value: string, candidates: readonly string[]): string {
  const best = nearest(value, candidates);
  if (best) return `did you mean "${best}"?`;
  return candidates.length > 0 ? `valid values: ${candidates.map((c) => `"${c}"`).join(', ')}` : 'no values are valid here';
}
