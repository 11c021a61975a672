import { type CsvRecord, CsvSyntaxError, readCsv } from '../../lib/csv.js';

/** A problem in an imported file; nothing of that file is kept. */
export class ImportError extends Error {
  override name = 'ImportError';
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly reason: string,
  ) {
    super(line === null ? `${file}: ${reason}` : `${file}:${line}: ${reason}`);
  }
}

/** The records of an imported CSV file; a syntax error becomes an ImportError with its line. */
export async function* importedCsv(path: string, file: string): AsyncGenerator<CsvRecord> {
  try {
    yield* readCsv(path);
  } catch (error) {
    if (error instanceof CsvSyntaxError) {
      throw new ImportError(file, error.line, error.message.replace(/^line \d+: /, ''));
    }
    throw error;
  }
}
