import { type Database } from '../db/client.js';
import { findItemEmbeddings, findItemsByExternalIds, findItemsByIds } from '../db/queries/items.js';
import { listUserGeneratedItems } from '../db/queries/jobs.js';
import { mostLikedItems } from '../db/queries/ratings.js';
import { AppError, BadUserInputError, ModelNotReadyError, NotFoundError } from '../errors.js';
import { MAX_RECOMMENDATIONS, MAX_SCORED_ITEMS } from '../limits.js';
import { type CatalogHit, outOfRange } from '../ml/index.js';
import {
  type GeneratedItemRecord,
  type ItemRecord,
  type JobRecord,
  type ModelVersionRecord,
  type UserRecord,
} from '../records.js';
import { blendAnswer } from './blend.js';
import { generationEligibility } from './generation/eligibility.js';
import { type GenerationService } from './generation/generation.service.js';
import { type ActiveModel, type ModelRuntime } from './model-runtime.js';
import { resolveUserTaste, type UserTaste } from './user-taste.js';
import { type UserService } from './users.service.js';
import { quote } from '../lib/text.js';

/** Why an answer is not personalised (RecommendationList.fallback). */
export type Fallback = 'NO_MODEL' | 'NO_RATINGS';

/** Why an entry is in the answer. */
export type RecommendationReason = 'CATALOG_BY_VERIFIER' | 'GENERATED_ABOVE_CATALOG' | 'MOST_LIKED';

export type RecommendationEntry = {
  rank: number;
  score: number;
  reason: RecommendationReason;
  explanation: string;
} & ({ source: 'catalog'; item: ItemRecord } | { source: 'generated'; generated: GeneratedItemRecord });

export interface RecommendationResult {
  user: UserRecord;
  entries: RecommendationEntry[];
  modelVersion: ModelVersionRecord | null;
  pendingGeneration: JobRecord | null;
  fallback: Fallback | null;
}

export interface RecommendOptions {
  includeGenerated: boolean;
  first: number;
  /** Share of the answer's places generated items may take (0: the catalog's answer unchanged). */
  generatedShare?: number | undefined;
  /** The logit margin a generated item must beat the displaced catalog item by (benchmarks vary it). */
  generatedMargin?: number | undefined;
  /**
   * Whether an empty pool starts a generation job, owned by this API key (null: no key, authentication
   * off). Default true; false (an analyst's read) answers without starting anything.
   */
  refill?: { apiKeyId: string | null } | false | undefined;
}

/** By default generated items may take a fifth of the places: 2 of the first 10. */
export const DEFAULT_GENERATED_SHARE = 0.2;
/**
 * The verifier's optimism on generated items, in logit units: a generated item must beat the catalog item
 * it displaces by this much. Measured on the taste worlds (BENCHMARKS.md, "Generation quality"): at the same
 * verifier score generated items are liked less often than catalog items.
 */
export const GENERATED_LOGIT_MARGIN = 2;
/**
 * Generated items of a user looked at per answer, newest first: each is read with its embedding and
 * rescored per request, so the pool stays small (16 default jobs' worth).
 */
const POOL_SIZE = 64;

export class RecommendationService {
  constructor(
    private readonly db: Database,
    private readonly users: UserService,
    private readonly runtime: ModelRuntime,
    private readonly generation: GenerationService,
  ) {}

  /**
   * One ranked answer: catalog items by verifier probability (rated ones excluded) and, when asked, the
   * user's generated items in the data's range, rescored with the same user vector and blended in where
   * they beat the catalog items they displace (blend.ts). With no generated item ready, a generation
   * starts (with this request's user vector and model) and comes back as `pendingGeneration`.
   */
  async recommend(userId: string, options: RecommendOptions): Promise<RecommendationResult> {
    const { first } = options;
    if (!Number.isInteger(first) || first < 1 || first > MAX_RECOMMENDATIONS) {
      throw new BadUserInputError(`first must be an integer from 1 to ${MAX_RECOMMENDATIONS}`);
    }
    const share = options.generatedShare ?? DEFAULT_GENERATED_SHARE;
    if (!Number.isFinite(share) || share < 0 || share > 1) {
      throw new BadUserInputError('generatedShare must be from 0 to 1');
    }
    const user = await this.users.requireUser(userId);
    const active = await this.runtime.active();
    if (active === null || active.index === null) return this.popular(user, first);

    const taste = await resolveUserTaste(this.db, active, user);
    const hits = active.index.topK(taste.factors, first, taste.ratedRows);
    const rows = await findItemsByExternalIds(
      this.db,
      hits.map((hit) => hit.id),
    );
    const byId = new Map(rows.map((row) => [row.externalId, row]));
    const catalog = hits.flatMap((hit) => {
      const item = byId.get(hit.id);
      return item === undefined ? [] : [{ score: hit.score, value: item }];
    });

    let pendingGeneration: JobRecord | null = null;
    const generated: { score: number; value: GeneratedItemRecord }[] = [];
    if (options.includeGenerated) {
      const pool = await listUserGeneratedItems(this.db, user.id, active.version.id, POOL_SIZE);
      for (const item of pool) {
        const embedding = Float32Array.from(item.embedding);
        // Items stored before a catalog change may lie outside today's range: never shown.
        if (
          active.range !== null &&
          outOfRange(embedding, active.range, active.model.standardization) !== null
        )
          continue;
        generated.push({ score: active.model.verifier.probability(taste.factors, embedding), value: item });
      }
      const refill = options.refill ?? { apiKeyId: null };
      if (
        refill !== false &&
        generated.length === 0 &&
        generationEligibility(active, user.externalId, taste).available
      ) {
        pendingGeneration = await this.refill(user, active, taste, refill.apiKeyId);
      }
    }
    const slots = options.includeGenerated ? Math.round(share * first) : 0;
    const margin = options.generatedMargin ?? GENERATED_LOGIT_MARGIN;
    const entries = blendAnswer(catalog, generated, first, slots, margin).map(
      (entry, index): RecommendationEntry => {
        const rank = index + 1;
        if (entry.source === 'catalog') {
          return {
            rank,
            score: entry.score,
            source: 'catalog',
            item: entry.value,
            reason: 'CATALOG_BY_VERIFIER',
            explanation:
              `catalog item ${entry.catalogRank} by the verifier's like-probability ` +
              `(${entry.score.toFixed(3)}) among the items ${taste.source === 'population' ? 'an average user' : 'this user'} has not rated`,
          };
        }
        return {
          rank,
          score: entry.score,
          source: 'generated',
          generated: entry.value,
          reason: 'GENERATED_ABOVE_CATALOG',
          explanation:
            entry.displacedScore === null
              ? `generated for this user (like-probability ${entry.score.toFixed(3)}); the catalog had too few unrated items to fill the answer`
              : `generated for this user: like-probability ${entry.score.toFixed(3)}, clearly above the ` +
                `catalog item it replaces (${entry.displacedScore.toFixed(3)})`,
        };
      },
    );
    return {
      user,
      entries,
      modelVersion: active.version,
      pendingGeneration,
      fallback: taste.source === 'population' ? 'NO_RATINGS' : null,
    };
  }

  /** The pool's refill; a refusal (limits, a queue outage) leaves the answer without a pending job. */
  private async refill(
    user: UserRecord,
    active: ActiveModel,
    taste: UserTaste,
    apiKeyId: string | null,
  ): Promise<JobRecord | null> {
    try {
      return await this.generation.ensureGeneration(user, active, taste, apiKeyId);
    } catch (error) {
      if (error instanceof AppError) return null;
      throw error;
    }
  }

  /** Catalog items nearest to an embedding by cosine (empty without a model or catalog). */
  async nearestCatalogItems(embedding: Float32Array, k: number, signal?: AbortSignal): Promise<CatalogHit[]> {
    const active = await this.runtime.active();
    if (active?.index == null || embedding.length !== active.index.catalog.dim) return [];
    // A full scan, in chunks with the event loop free between them (a request may ask for many).
    return active.index.nearestYielding(embedding, k, signal === undefined ? {} : { signal });
  }

  /** The verifier's like-probability of catalog items for a user (trained, fitted or population vector). */
  async verifierScores(userId: string, itemIds: string[]): Promise<{ item: string; probability: number }[]> {
    if (itemIds.length > MAX_SCORED_ITEMS) throw new BadUserInputError(`at most ${MAX_SCORED_ITEMS} items`);
    const user = await this.users.requireUser(userId);
    const active = await this.runtime.active();
    if (active === null) throw new ModelNotReadyError(this.runtime.notReadyReason ?? 'no model is loaded');
    const taste = await resolveUserTaste(this.db, active, user);
    const rows = await findItemsByExternalIds(this.db, itemIds);
    const rowIds = new Map(rows.map((row) => [row.externalId, row.id]));
    const missing = itemIds.find((id) => !rowIds.has(id));
    if (missing !== undefined) throw new NotFoundError(`item ${quote(missing)} does not exist`);
    const embeddings = new Map(
      (await findItemEmbeddings(this.db, [...rowIds.values()])).map((row) => [row.id, row.embedding]),
    );
    return itemIds.map((id) => ({
      item: id,
      probability: active.model.verifier.probability(
        taste.factors,
        Float32Array.from(embeddings.get(rowIds.get(id) as number) ?? []),
      ),
    }));
  }

  /** Without a model: the most liked items the user has not rated, scored by their like share. */
  private async popular(user: UserRecord, first: number): Promise<RecommendationResult> {
    const liked = await mostLikedItems(this.db, user.id, first);
    const rows = await findItemsByIds(
      this.db,
      liked.map((entry) => entry.itemId),
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    const entries = liked.flatMap((entry, index): RecommendationEntry[] => {
      const item = byId.get(entry.itemId);
      return item === undefined
        ? []
        : [
            {
              source: 'catalog',
              rank: index + 1,
              score: entry.likeShare,
              item,
              reason: 'MOST_LIKED',
              explanation: `no model is serving: among the most liked items (like share ${entry.likeShare.toFixed(3)})`,
            },
          ];
    });
    return { user, entries, modelVersion: null, pendingGeneration: null, fallback: 'NO_MODEL' };
  }
}
