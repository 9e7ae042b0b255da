/**
 * A small deterministic pseudo-random generator (FNV-1a of the seed, then a murmur3-style mix):
 * the same seed gives the same demo and the same large data set on every run, which tests and
 * benchmarks rely on. Not for anything secret.
 */
export function random(seed: string): () => number {
  let h = 2166136261;
  for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return () => {
    h = Math.imul(h ^ (h >>> 15), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    return ((h ^= h >>> 16) >>> 0) / 4294967296;
  };
}
