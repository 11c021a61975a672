import { MIN_RATINGS_FOR_TASTE } from '../../limits.js';
import { type UserCondition } from '../../ml/index.js';
import { type ActiveModel } from '../model-runtime.js';
import { type UserTaste } from '../user-taste.js';

/** Why the active model cannot generate for a user. */
export type GenerationBlock = 'NOT_IN_TRAINING_DATA' | 'BELOW_MIN_LIKES' | 'TOO_FEW_RATINGS';

export type Eligibility =
  | { available: true; condition: UserCondition }
  | {
      available: false;
      reason: GenerationBlock;
      /** One sentence for people: why, and what would change it. */
      message: string;
      /** Whether training again (with the user's ratings as they are now) would let them generate. */
      trainAgainHelps: boolean;
      /** More ratings the user needs before anything can help (taste priors). */
      ratingsNeeded: number | null;
      /** More likes the user needs before training again can help (table priors). */
      likesNeeded: number | null;
    };

/**
 * Whether the active model's prior can condition on this user. A taste-conditioned prior takes anyone
 * whose taste vector rests on enough ratings (trained, or fitted now from their ratings); the paper's
 * table-conditioned prior only the users it was trained with, so a user dropped by the min-likes rule or
 * new since training must wait for a training run, which helps only once they have enough likes.
 */
export function generationEligibility(active: ActiveModel, userId: string, taste: UserTaste): Eligibility {
  const { model } = active;
  if (model.conditioning.kind === 'taste') {
    if (taste.source === 'trained' || taste.ratedCount >= MIN_RATINGS_FOR_TASTE) {
      const condition = model.userCondition(userId, taste.factors);
      if (condition !== undefined) return { available: true, condition };
    }
    const needed = Math.max(1, MIN_RATINGS_FOR_TASTE - taste.ratedCount);
    return {
      available: false,
      reason: 'TOO_FEW_RATINGS',
      message:
        `generation follows a user's taste vector, fitted from at least ${MIN_RATINGS_FOR_TASTE} ratings of ` +
        `catalog items; this user has ${taste.ratedCount}: rate ${needed} more`,
      trainAgainHelps: false,
      ratingsNeeded: needed,
      likesNeeded: null,
    };
  }
  const condition = model.userCondition(userId, taste.factors);
  if (condition !== undefined) return { available: true, condition };
  const preprocessing = model.manifest.preprocessing ?? {};
  const minLikes = typeof preprocessing.minLikes === 'number' ? preprocessing.minLikes : 0;
  const droppedLikes = (preprocessing.droppedUsers as Record<string, number> | undefined)?.[userId];
  const likesNeeded = Math.max(0, minLikes - taste.likedCount);
  const then =
    likesNeeded === 0
      ? `they have ${taste.likedCount} likes now: train again to include them`
      : `they have ${taste.likedCount} likes now: ${likesNeeded} more, then train again`;
  if (model.verifier.userRow(userId) !== undefined) {
    const had = droppedLikes === undefined ? '' : ` (${droppedLikes} likes at training)`;
    return {
      available: false,
      reason: 'BELOW_MIN_LIKES',
      message: `the active model's prior dropped this user by its min-likes rule of ${minLikes}${had}; ${then}`,
      trainAgainHelps: likesNeeded === 0,
      ratingsNeeded: null,
      likesNeeded,
    };
  }
  return {
    available: false,
    reason: 'NOT_IN_TRAINING_DATA',
    message: `the active model's prior was trained before this user rated anything; ${then}`,
    trainAgainHelps: likesNeeded === 0,
    ratingsNeeded: null,
    likesNeeded,
  };
}
