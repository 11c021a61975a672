import { type Database } from '../db/client.js';
import {
  findItemEmbeddings,
  findItemsByExternalIds,
  findItemsByIds,
  type ItemSummaryRow,
} from '../db/queries/items.js';
import { type GeneratedItemRow, type GenerationJobRow, listUserGeneratedItems } from '../db/queries/jobs.js';
import { type ModelVersionRow } from '../db/queries/models.js';
import { mostLikedItems } from '../db/queries/ratings.js';
import { type UserRow } from '../db/queries/users.js';
import { BadUserInputError, ModelNotReadyError, NotFoundError } from '../errors.js';
import { type CatalogHit } from '../ml/index.js';
import { type GenerationService } from './generation/generation.service.js';
import { type ModelRuntime } from './model-runtime.js';
import { resolveUserTaste } from './user-taste.js';
import { type UserService } from './users.service.js';

/** Why an answer is not personalised (RecommendationList.fallback). */
export type Fallback = 'NO_MODEL' | 'NO_RATINGS';

type Candidate =
  | { source: 'catalog'; score: number; item: ItemSummaryRow }
  | { source: 'generated'; score: number; generated: GeneratedItemRow };

export type RecommendationEntry = Candidate & { rank: number };

export interface RecommendationResult {
  user: UserRow;
  entries: RecommendationEntry[];
  modelVersion: ModelVersionRow | null;
  pendingGeneration: GenerationJobRow | null;
  fallback: Fallback | null;
}

export const MAX_RECOMMENDATIONS = 200;
export const MAX_SCORED_ITEMS = 1000;

export class RecommendationService {
  constructor(
    private readonly db: Database,
    private readonly users: UserService,
    private readonly runtime: ModelRuntime,
    private readonly generation: GenerationService,
  ) {}

  /**
   * One ranked answer: catalog items by verifier probability (rated ones excluded) and, when asked, the
   * user's ready generated items rescored with the same user vector, so both sources share one scale.
   * With no generated item ready, a generation starts and comes back as `pendingGeneration`.
   */
  async recommend(
    userId: string,
    options: { includeGenerated: boolean; first: number },
  ): Promise<RecommendationResult> {
    const { first } = options;
    if (!Number.isInteger(first) || first < 1 || first > MAX_RECOMMENDATIONS) {
      throw new BadUserInputError(`first must be an integer from 1 to ${MAX_RECOMMENDATIONS}`);
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
    const candidates: Candidate[] = hits.flatMap((hit) => {
      const item = byId.get(hit.id);
      return item === undefined ? [] : [{ source: 'catalog' as const, score: hit.score, item }];
    });

    let pendingGeneration: GenerationJobRow | null = null;
    if (options.includeGenerated) {
      const pool = await listUserGeneratedItems(this.db, user.id, active.version.id, first);
      for (const generated of pool) {
        const score = active.model.verifier.probability(
          taste.factors,
          Float32Array.from(generated.embedding),
        );
        candidates.push({ source: 'generated', score, generated });
      }
      if (pool.length === 0 && active.model.priorUserRow(user.externalId) !== undefined) {
        pendingGeneration = await this.generation.ensureGeneration(user.externalId, user.id);
      }
    }
    candidates.sort((a, b) => b.score - a.score);
    return {
      user,
      entries: candidates
        .slice(0, first)
        .map((entry, index) => ({ ...entry, rank: index + 1 }) as RecommendationEntry),
      modelVersion: active.version,
      pendingGeneration,
      fallback: taste.source === 'population' ? 'NO_RATINGS' : null,
    };
  }

  /** Catalog items nearest to an embedding by cosine (empty without a model or catalog). */
  async nearestCatalogItems(embedding: Float32Array, k: number): Promise<CatalogHit[]> {
    const active = await this.runtime.active();
    if (active?.index == null || embedding.length !== active.index.catalog.dim) return [];
    return active.index.nearest(embedding, k);
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
    if (missing !== undefined) throw new NotFoundError(`item "${missing}" does not exist`);
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
  private async popular(user: UserRow, first: number): Promise<RecommendationResult> {
    const liked = await mostLikedItems(this.db, user.id, first);
    const rows = await findItemsByIds(
      this.db,
      liked.map((entry) => entry.itemId),
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    const entries = liked.flatMap((entry, index) => {
      const item = byId.get(entry.itemId);
      return item === undefined
        ? []
        : [{ source: 'catalog' as const, rank: index + 1, score: entry.likeShare, item }];
    });
    return { user, entries, modelVersion: null, pendingGeneration: null, fallback: 'NO_MODEL' };
  }
}
