import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy, NpyFormatError, NpyRowReader, parseNpyHeader, readNpy } from '../../src/lib/npy.js';
import { tempDir } from '../helpers/files.js';

describe('npy', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeAll(async () => (dir = await tempDir()));
  afterAll(() => dir.cleanup());

  it('round-trips float32 arrays with a 64-byte aligned header', async () => {
    const data = Float32Array.from({ length: 15 }, (_, i) => i / 7 - 1);
    const bytes = encodeNpy(data, [5, 3]);
    expect(parseNpyHeader(bytes).dataOffset % 64).toBe(0);
    const path = join(dir.path, 'a.npy');
    await writeFile(path, bytes);
    const read = await readNpy(path);
    expect(read.shape).toEqual([5, 3]);
    expect(Array.from(read.data)).toEqual(Array.from(data));
    const reader = await NpyRowReader.open(path);
    expect(Array.from(await reader.readRows(3, 2))).toEqual(Array.from(data.subarray(9, 15)));
    await reader.close();
  });

  it('converts float64 files (as NumPy writes them) to float32', async () => {
    const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }";
    const padded = header + ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
    const prefix = Buffer.from([
      0x93,
      0x4e,
      0x55,
      0x4d,
      0x50,
      0x59,
      1,
      0,
      padded.length & 0xff,
      padded.length >> 8,
    ]);
    const body = Buffer.from(new Float64Array([1.5, -2, 3.25, 1e-3]).buffer);
    const path = join(dir.path, 'f8.npy');
    await writeFile(path, Buffer.concat([prefix, Buffer.from(padded, 'latin1'), body]));
    const read = await readNpy(path);
    expect(Array.from(read.data)).toEqual([1.5, -2, 3.25, Math.fround(1e-3)]);
  });

  it('refuses other dtypes and truncated files clearly', async () => {
    const bytes = encodeNpy(new Float32Array(6), [2, 3]);
    const intHeader = Buffer.from(bytes.toString('latin1').replace("'<f4'", "'<i4'"), 'latin1');
    expect(() => parseNpyHeader(intHeader)).toThrow(/dtype <i4 is not supported/);
    const path = join(dir.path, 'short.npy');
    await writeFile(path, bytes.subarray(0, bytes.length - 4));
    await expect(NpyRowReader.open(path)).rejects.toThrow(NpyFormatError);
  });
});
