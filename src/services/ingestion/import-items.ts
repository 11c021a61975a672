import { basename } from 'node:path';
import { type Database } from '../../db/client.js';
import { claimCatalogDim, type ItemWrite, upsertItemRows } from '../../db/queries/items.js';
import { NpyRowReader } from '../../lib/npy.js';
import { type ProgressListener } from '../../lib/progress.js';
import { imageUrlProblem } from '../../lib/image-url.js';
import { quote, textProblem } from '../../lib/text.js';
import { MAX_EMBEDDING_DIM, MAX_TITLE_LENGTH, MAX_URL_LENGTH } from '../../limits.js';
import { embeddingProblem } from '../embedding.js';
import { externalIdProblem } from '../users.service.js';
import { ImportError, importedCsv } from './import-error.js';

export interface ImportItemsOptions {
  itemsPath: string;
  embeddingsPath: string;
  /** Items written per INSERT statement. */
  batchSize?: number;
  onProgress?: ProgressListener;
}

export interface ImportSummary {
  rows: number;
  written: number;
  seconds: number;
}

/**
 * Import items.csv with its embeddings.npy in one transaction: any malformed row aborts the whole
 * file and nothing of it is kept. Rows are read and written in batches; neither file is loaded whole.
 */
export async function importItems(db: Database, options: ImportItemsOptions): Promise<ImportSummary> {
  const started = performance.now();
  const file = basename(options.itemsPath);
  const npyName = basename(options.embeddingsPath);
  const batchSize = options.batchSize ?? 250;
  let embeddings: NpyRowReader;
  try {
    embeddings = await NpyRowReader.open(options.embeddingsPath);
  } catch (error) {
    throw new ImportError(npyName, null, (error as Error).message);
  }
  try {
    if (embeddings.shape.length !== 2) {
      throw new ImportError(
        npyName,
        null,
        `expected a 2-D array [N, D], got shape (${embeddings.shape.join(', ')})`,
      );
    }
    const width = embeddings.rowWidth;
    if (width < 1 || width > MAX_EMBEDDING_DIM) {
      throw new ImportError(npyName, null, `embedding width ${width} is outside 1..${MAX_EMBEDDING_DIM}`);
    }
    let rows = 0;
    let written = 0;
    await db.transaction(async (tx) => {
      const catalogDim = await claimCatalogDim(tx as unknown as Database, width);
      if (catalogDim !== width) {
        throw new ImportError(
          npyName,
          null,
          `embedding width ${width} differs from the catalog's ${catalogDim}`,
        );
      }
      const seen = new Set<string>();
      let batch: (ItemWrite & { line: number })[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        const vectors = await embeddings.readRows(rows - batch.length, batch.length);
        batch.forEach((item, index) => {
          item.embedding = vectors.subarray(index * width, (index + 1) * width);
          const problem = embeddingProblem(item.embedding, width);
          if (problem !== null) {
            throw new ImportError(
              file,
              item.line,
              `item ${quote(item.externalId)} (${npyName} row ${rows - batch.length + index}): ${problem}`,
            );
          }
        });
        written += await upsertItemRows(tx as unknown as Database, batch);
        batch = [];
        options.onProgress?.({ phase: `items ${file}`, done: rows, total: embeddings.rows });
      };
      let columns: { id: number; title: number; imageUrl: number } | null = null;
      for await (const record of importedCsv(options.itemsPath, file)) {
        if (columns === null) {
          columns = itemColumns(record.fields, file, record.line);
          continue;
        }
        const externalId = (record.fields[columns.id] ?? '').trim();
        if (externalId === '') throw new ImportError(file, record.line, 'empty item_id');
        // The rules of the API (upsertItems): an item it could not address or store is refused here too.
        const idProblem = externalIdProblem(externalId);
        if (idProblem !== null) throw new ImportError(file, record.line, `item_id ${idProblem}`);
        if (seen.has(externalId))
          throw new ImportError(file, record.line, `duplicate item_id ${quote(externalId)}`);
        seen.add(externalId);
        if (rows >= embeddings.rows) {
          throw new ImportError(
            file,
            record.line,
            `more items than ${npyName} has rows (${embeddings.rows})`,
          );
        }
        const title = columns.title < 0 ? '' : (record.fields[columns.title] ?? '');
        const imageUrl = columns.imageUrl < 0 ? '' : (record.fields[columns.imageUrl] ?? '');
        for (const [name, text, max] of [
          ['title', title, MAX_TITLE_LENGTH],
          ['image_url', imageUrl, MAX_URL_LENGTH],
        ] as const) {
          if (text.length > max)
            throw new ImportError(file, record.line, `${name} longer than ${max} characters`);
          const problem = textProblem(text);
          if (problem !== null) throw new ImportError(file, record.line, `${name} ${problem}`);
        }
        const urlProblem = imageUrl === '' ? null : imageUrlProblem(imageUrl);
        if (urlProblem !== null) throw new ImportError(file, record.line, `image_url ${urlProblem}`);
        batch.push({
          externalId,
          title: title === '' ? null : title,
          imageUrl: imageUrl === '' ? null : imageUrl,
          embedding: [],
          line: record.line,
        });
        rows += 1;
        if (batch.length >= batchSize) await flush();
      }
      if (columns === null) throw new ImportError(file, null, 'the file is empty (no header)');
      await flush();
      if (rows !== embeddings.rows) {
        throw new ImportError(npyName, null, `${embeddings.rows} rows but ${file} has ${rows} items`);
      }
    });
    return { rows, written, seconds: (performance.now() - started) / 1000 };
  } finally {
    await embeddings.close();
  }
}

function itemColumns(header: string[], file: string, line: number) {
  const names = header.map((name) => name.trim().toLowerCase());
  const id = names.indexOf('item_id');
  if (id < 0)
    throw new ImportError(
      file,
      line,
      `header must be item_id,title,image_url; got ${quote(header.join(','))}`,
    );
  return { id, title: names.indexOf('title'), imageUrl: names.indexOf('image_url') };
}
