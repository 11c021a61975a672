import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvField, CsvSyntaxError, readCsv } from '../../src/lib/csv.js';
import { tempDir } from '../helpers/files.js';

describe('readCsv', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeAll(async () => (dir = await tempDir()));
  afterAll(() => dir.cleanup());

  async function parse(text: string) {
    const path = join(dir.path, 'x.csv');
    await writeFile(path, text);
    const records = [];
    for await (const record of readCsv(path)) records.push(record);
    return records;
  }

  it('reads quoted fields with commas, quotes and newlines, CRLF, and gives each record its line', async () => {
    const records = await parse('a,b,c\r\n1,"x, ""y""",\n\n2,"multi\nline",z\n3,,last');
    expect(records).toEqual([
      { fields: ['a', 'b', 'c'], line: 1 },
      { fields: ['1', 'x, "y"', ''], line: 2 },
      { fields: ['2', 'multi\nline', 'z'], line: 4 },
      { fields: ['3', '', 'last'], line: 6 },
    ]);
  });

  it('reports an unterminated quote with its line', async () => {
    await expect(parse('a\n"open\n')).rejects.toThrow(CsvSyntaxError);
    await expect(parse('a\n"open\n')).rejects.toThrow(/line 2/);
  });

  it('round-trips what csvField writes', async () => {
    const values = ['plain', 'with, comma', 'with "quote"', ' padded ', 'new\nline', ''];
    const records = await parse(`${values.map(csvField).join(',')}\n`);
    expect(records[0]?.fields).toEqual(values);
  });
});
