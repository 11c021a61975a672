import { type Database } from '../db/client.js';
import {
  countUserRatings,
  listUserRatingsAfter,
  type RatingRow,
  upsertRating,
} from '../db/queries/ratings.js';
import { BadUserInputError } from '../errors.js';
import { type CatalogService } from './catalog.service.js';
import { checkFirst, decodeCursor, type Page, type PageArgs, toPage } from './pagination.js';
import { type UserService } from './users.service.js';

export class RatingService {
  constructor(
    private readonly db: Database,
    private readonly users: UserService,
    private readonly catalog: CatalogService,
  ) {}

  /** Rate an item; rating it again replaces the score. */
  async rateItem(userExternalId: string, itemExternalId: string, score: number): Promise<RatingRow> {
    if (!Number.isInteger(score) || score < 1 || score > 5) {
      throw new BadUserInputError(`score must be an integer from 1 to 5, got ${score}`);
    }
    const [user, item] = await Promise.all([
      this.users.requireUser(userExternalId),
      this.catalog.requireItem(itemExternalId),
    ]);
    return upsertRating(this.db, { userId: user.id, itemId: item.id, score });
  }

  async listUserRatings(userId: number, args: PageArgs): Promise<Page<RatingRow>> {
    const first = checkFirst(args.first);
    const [rows, total] = await Promise.all([
      listUserRatingsAfter(this.db, userId, decodeCursor(args.after), first + 1),
      countUserRatings(this.db, userId),
    ]);
    return toPage(rows, first, (row) => row.id, total);
  }
}
