// "Did you mean": the closest known name to a typo. Small inputs only (keys, commands, types).

/** Edit distance where swapping two neighbours (weigth → weight) costs one edit, like any typo. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

const fold = (s: string) => s.toLowerCase().replaceAll("-", "_");

function closest(word: string, known: Iterable<string>): { name: string; d: number } | undefined {
  let best: { name: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(fold(word), fold(k));
    if (!best || d < best.d) best = { name: k, d };
  }
  return best;
}

/** How far a name may be from a typo of it to still be offered. */
const nearEnough = (word: string, d: number) => d <= Math.max(2, Math.floor(word.length / 3));

/** The closest known name, if it is close enough to be what the user meant. */
export function didYouMean(word: string, known: Iterable<string>): string | undefined {
  return closeNames(word, known, 1)[0];
}

/** Up to `n` known names close enough to `word`, closest first (ties in the order given). */
export function closeNames(word: string, known: Iterable<string>, n = 3): string[] {
  const near: { name: string; d: number }[] = [];
  for (const k of known) {
    const d = distance(fold(word), fold(k));
    if (nearEnough(word, d)) near.push({ name: k, d });
  }
  return near
    .sort((a, b) => a.d - b.d)
    .slice(0, n)
    .map((x) => x.name);
}

/**
 * A known name one slip away (a letter wrong, missing, extra or swapped, or only its case):
 * surely a typo, never a key some later version added. Such keys are errors, not warnings —
 * `weigth = 80` silently changes the traffic split.
 */
export function nearMiss(word: string, known: Iterable<string>): string | undefined {
  const best = closest(word, known);
  return best && best.d <= 1 ? best.name : undefined;
}
