import { createReadStream } from 'node:fs';

/** One CSV record and the 1-based line of the file it starts on. */
export interface CsvRecord {
  fields: string[];
  line: number;
}

export class CsvSyntaxError extends Error {
  override name = 'CsvSyntaxError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/**
 * Stream RFC 4180 records from a file without loading it whole. Quoted fields may hold commas,
 * quotes (doubled) and newlines; CRLF and LF both end records; blank lines are skipped.
 */
export async function* readCsv(path: string): AsyncGenerator<CsvRecord> {
  let field = '';
  let fields: string[] = [];
  let quoted = false;
  let afterQuote = false;
  let line = 1;
  let recordLine = 1;
  let sawAny = false;
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  for await (const chunk of stream as AsyncIterable<string>) {
    const out: CsvRecord[] = [];
    for (let i = 0; i < chunk.length; i += 1) {
      const ch = chunk[i];
      if (quoted) {
        if (ch === '"') {
          quoted = false;
          afterQuote = true;
        } else {
          if (ch === '\n') line += 1;
          field += ch;
        }
        continue;
      }
      if (ch === '"') {
        if (afterQuote) {
          field += '"';
          quoted = true;
          afterQuote = false;
        } else if (field.length === 0) {
          quoted = true;
          sawAny = true;
        } else {
          throw new CsvSyntaxError('unexpected quote inside an unquoted field', line);
        }
        continue;
      }
      if (ch === ',') {
        fields.push(field);
        field = '';
        afterQuote = false;
        sawAny = true;
        continue;
      }
      if (ch === '\r') continue;
      if (ch === '\n') {
        if (sawAny || field.length > 0) {
          fields.push(field);
          out.push({ fields, line: recordLine });
        }
        fields = [];
        field = '';
        afterQuote = false;
        sawAny = false;
        line += 1;
        recordLine = line;
        continue;
      }
      if (afterQuote) throw new CsvSyntaxError('characters after a closing quote', line);
      field += ch;
      sawAny = true;
    }
    yield* out;
  }
  if (quoted) throw new CsvSyntaxError('unterminated quoted field', recordLine);
  if (sawAny || field.length > 0) {
    fields.push(field);
    yield { fields, line: recordLine };
  }
}

/** Quote a value for CSV output when it needs it. */
export function csvField(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
