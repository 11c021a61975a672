import { type Database } from '../db/client.js';
import {
  claimCatalogDim,
  countItems,
  findItemsByExternalIds,
  type ItemSummaryRow,
  type ItemWrite,
  listItemsAfter,
  upsertItemRows,
} from '../db/queries/items.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import { MAX_ITEMS_PER_UPSERT, MAX_TITLE_LENGTH, MAX_URL_LENGTH } from '../limits.js';
import { assertEmbedding } from './embedding.js';
import { imageUrlProblem } from '../lib/image-url.js';
import { quote, textProblem } from '../lib/text.js';
import { checkFirst, decodeCursor, type Page, type PageArgs, toPage } from './pagination.js';
import { checkExternalId } from './users.service.js';

export class CatalogService {
  constructor(
    private readonly db: Database,
    /** Called after items change (the served model's catalog projection is rebuilt). */
    private readonly onChange: () => void = () => undefined,
  ) {}

  /** Insert or update items by id, all or nothing; returns how many were inserted or changed. */
  async upsertItems(inputs: ItemWrite[]): Promise<number> {
    if (inputs.length === 0) return 0;
    if (inputs.length > MAX_ITEMS_PER_UPSERT) {
      throw new BadUserInputError(`at most ${MAX_ITEMS_PER_UPSERT} items per call; use the import command`);
    }
    const ids = new Set<string>();
    const width = inputs[0]?.embedding.length ?? 0;
    inputs.forEach((input, index) => {
      checkExternalId(input.externalId, `items[${index}]`);
      if (ids.has(input.externalId))
        throw new BadUserInputError(`items[${index}]: duplicate id ${quote(input.externalId)}`);
      ids.add(input.externalId);
      assertEmbedding(input.embedding, width, `items[${index}] (${quote(input.externalId)})`);
      if ((input.title?.length ?? 0) > MAX_TITLE_LENGTH) {
        throw new BadUserInputError(`items[${index}]: title longer than ${MAX_TITLE_LENGTH} characters`);
      }
      if ((input.imageUrl?.length ?? 0) > MAX_URL_LENGTH) {
        throw new BadUserInputError(`items[${index}]: imageUrl longer than ${MAX_URL_LENGTH} characters`);
      }
      for (const [field, text] of [
        ['title', input.title],
        ['imageUrl', input.imageUrl],
      ] as const) {
        const problem = text == null ? null : textProblem(text);
        if (problem !== null) throw new BadUserInputError(`items[${index}]: ${field} ${problem}`);
      }
      const urlProblem = input.imageUrl == null ? null : imageUrlProblem(input.imageUrl);
      if (urlProblem !== null) throw new BadUserInputError(`items[${index}]: imageUrl ${urlProblem}`);
    });
    const written = await this.db.transaction(async (tx) => {
      const tdb = tx as unknown as Database;
      const catalogDim = await claimCatalogDim(tdb, width);
      if (catalogDim !== width) {
        throw new BadUserInputError(`embeddings have width ${width}, the catalog's is ${catalogDim}`);
      }
      return upsertItemRows(tdb, inputs);
    });
    if (written > 0) this.onChange();
    return written;
  }

  async requireItem(externalId: string): Promise<ItemSummaryRow> {
    const [row] = await findItemsByExternalIds(this.db, [externalId]);
    if (row === undefined) throw new NotFoundError(`item ${quote(externalId)} does not exist`);
    return row;
  }

  async findItem(externalId: string): Promise<ItemSummaryRow | undefined> {
    const [row] = await findItemsByExternalIds(this.db, [externalId]);
    return row;
  }

  async listItems(args: PageArgs): Promise<Page<ItemSummaryRow>> {
    const first = checkFirst(args.first);
    const [rows, total] = await Promise.all([
      listItemsAfter(this.db, decodeCursor(args.after), first + 1),
      countItems(this.db),
    ]);
    return toPage(rows, first, (row) => row.id, total);
  }
}
