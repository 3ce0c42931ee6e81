/**
 * The one rule by which a label task is scored, everywhere (training validation, `tsugiki eval`,
 * the Compare step, the model card, the bench):
 *
 *   each row is scored once per label of the label set, with that label as its answer; the
 *   prediction is the label whose answer tokens (the label's tokens and the end-of-answer token)
 *   have the lowest SUMMED negative log-likelihood, i.e. the highest probability
 *   p(label, end | prompt). Ties go to the label that comes first in the label set.
 *
 * Why summed, not the mean per token: the sum is the model's actual probability of writing that
 * whole answer and stopping, so the prediction is the answer greedy-free generation would most
 * likely produce among the labels. The mean rewards long labels whose later tokens are easy once
 * the first is written ("spam" as "sp"+"am" against "ham"), which is not what the model would say.
 * Counting the end token makes "yes" lose to "yes, but" only when the model really wants to go on.
 */

export const LABEL_RULE_NAME = 'likeliest-label (summed answer log-likelihood, end token included)';

/** The rule in one sentence for people (the studio shows it next to every accuracy). */
export const LABEL_RULE_SENTENCE =
  'The predicted label is the one the model is most likely to write in full: for each label, the probability of that label followed by the end of the answer, highest wins.';

/**
 * Index of the predicted label from the summed answer losses of one row's candidates
 * (`sums[offset + k]` for label k of K); a non-finite score never wins unless all are.
 */
export function pickLabel(sums: ArrayLike<number>, offset: number, K: number): number {
  let best = -1;
  for (let k = 0; k < K; k++) {
    const s = sums[offset + k];
    if (!Number.isFinite(s)) continue;
    if (best < 0 || s < sums[offset + best]) best = k;
  }
  return best < 0 ? 0 : best;
}
