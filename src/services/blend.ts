/**
 * How generated items join a ranked answer (mirrored by training/rebeca/quality.py `blend_top`, which
 * measures it against the taste world's truth).
 *
 * The catalog's answer is the reference: generated items take at most `slots` of its places, and each only
 * where it beats the catalog item it displaces (the lowest one still in the answer) by the verifier, after
 * a discount in logit space (`margin`) for the verifier's optimism off the catalog: on the taste worlds,
 * a generated item is liked less often than a catalog item of the same verifier score. So the answer never
 * trades a catalog item for a generated one the verifier does not clearly prefer, and with `slots` = 0 it
 * is the catalog's answer unchanged.
 */

export interface ScoredCandidate<T> {
  score: number;
  value: T;
}

export type BlendedEntry<C, G> =
  | { source: 'catalog'; score: number; value: C; catalogRank: number }
  | { source: 'generated'; score: number; value: G; displacedScore: number | null };

function logit(p: number): number {
  const q = Math.min(Math.max(p, 1e-9), 1 - 1e-9);
  return Math.log(q / (1 - q));
}

/**
 * `catalog` best first (at least `first` if the catalog has them), `generated` in any order. Returns the
 * answer's entries, best score first, at most `first`.
 */
export function blendAnswer<C, G>(
  catalog: readonly ScoredCandidate<C>[],
  generated: readonly ScoredCandidate<G>[],
  first: number,
  slots: number,
  margin: number,
): BlendedEntry<C, G>[] {
  const kept: BlendedEntry<C, G>[] = catalog.slice(0, first).map((entry, index) => ({
    source: 'catalog',
    score: entry.score,
    value: entry.value,
    catalogRank: index + 1,
  }));
  const best = [...generated].sort((a, b) => b.score - a.score).slice(0, Math.max(0, slots));
  const taken: BlendedEntry<C, G>[] = [];
  for (const candidate of best) {
    if (kept.length + taken.length < first) {
      // A short catalog leaves room: nothing is displaced.
      taken.push({
        source: 'generated',
        score: candidate.score,
        value: candidate.value,
        displacedScore: null,
      });
      continue;
    }
    const displaced = kept[kept.length - 1];
    if (displaced === undefined || logit(candidate.score) - margin < logit(displaced.score)) break;
    kept.pop();
    taken.push({
      source: 'generated',
      score: candidate.score,
      value: candidate.value,
      displacedScore: displaced.score,
    });
  }
  return [...kept, ...taken].sort((a, b) => b.score - a.score).slice(0, first);
}
