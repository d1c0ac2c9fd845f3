/**
 * Which training frames each holder of `fusiond train`'s samples needs, so that none holds every frame's
 * features when it does not use them (issue #16: a 64-drive four-camera ensemble ran this 24 GB machine out of
 * memory while the parent and each member worker held every frame).
 *
 * An ensemble bagged by phase gives member k the training frames k, k + every, k + 2·every, … (by the sample's
 * index over the training recordings in order). A member worker keeps the samples its split names and nothing
 * else, renumbered in order (`compactSplit`); the parent (run.ts) keeps the features of what it still reads
 * itself — member 0's share until the encoders are pretrained on it, the validation samples except while the
 * workers train — and of the other frames only the labels and tags, which the model card counts (data.ts:
 * withoutFeatures).
 */

export interface Split {
  train: number[];
  val: number[];
}

/** Whether the sample at index `i` is in member `k`'s share: 1 in `every`, member k from frame k. */
export const inShare = (i: number, every: number, k: number): boolean => i % every === k % every;

/** Member `k`'s split: its share of the training indices, and every validation index. */
export function memberSplit(split: Split, every: number, k: number): Split {
  return { train: split.train.filter((i) => inShare(i, every, k)), val: split.val };
}

/**
 * A worker's view of a split: `keep(i)` says whether the sample at (parent) index i is used; the samples kept,
 * in order, are renumbered 0, 1, …, and `split` indexes them — the same samples in the same order as the
 * parent's split, so a member trains exactly as it would on every sample.
 */
export function compactSplit(split: Split): { keep: (i: number) => boolean; split: Split } {
  const used = [...new Set([...split.train, ...split.val])].sort((a, b) => a - b);
  const local = new Map(used.map((g, l) => [g, l]));
  const at = (g: number): number => local.get(g)!;
  return { keep: (i) => local.has(i), split: { train: split.train.map(at), val: split.val.map(at) } };
}
