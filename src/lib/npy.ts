import { open } from 'node:fs/promises';
import { quote } from './text.js';

/** The header of a NumPy .npy file (format versions 1, 2 and 3). */
export interface NpyHeader {
  dtype: '<f4' | '<f8';
  shape: number[];
  /** Byte offset of the first element. */
  dataOffset: number;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

export class NpyFormatError extends Error {
  override name = 'NpyFormatError';
}

export function parseNpyHeader(head: Buffer): NpyHeader {
  if (head.length < 10 || !head.subarray(0, 6).equals(MAGIC)) {
    throw new NpyFormatError('not a NumPy .npy file (bad magic bytes)');
  }
  const major = head[6];
  const lengthBytes = major === 1 ? 2 : 4;
  const headerLength = major === 1 ? head.readUInt16LE(8) : head.readUInt32LE(8);
  const start = 8 + lengthBytes;
  if (head.length < start + headerLength) throw new NpyFormatError('truncated .npy header');
  const text = head.subarray(start, start + headerLength).toString('latin1');
  const descr = /'descr':\s*'([^']{1,16})'/.exec(text)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new NpyFormatError(`unreadable .npy header: ${quote(text.trim())}`);
  }
  if (descr !== '<f4' && descr !== '<f8') {
    throw new NpyFormatError(`dtype ${descr} is not supported (float32 or float64 little-endian)`);
  }
  if (fortran === 'True') throw new NpyFormatError('Fortran-ordered arrays are not supported');
  const shape = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map(Number);
  if (shape.some((dim) => !Number.isSafeInteger(dim) || dim < 0))
    throw new NpyFormatError(`unreadable .npy shape: ${quote(`(${shapeText})`)}`);
  return { dtype: descr, shape, dataOffset: start + headerLength };
}

/** Read a whole .npy file as float32 (float64 is converted). For large files use {@link NpyRowReader}. */
export async function readNpy(path: string): Promise<{ shape: number[]; data: Float32Array }> {
  const reader = await NpyRowReader.open(path);
  try {
    const total = reader.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(total);
    const rowWidth = reader.rowWidth;
    for (let row = 0; row < reader.rows; row += 1) {
      data.set(await reader.readRow(row), row * rowWidth);
    }
    if (reader.shape.length === 0) data.set(await reader.readRow(0));
    return { shape: reader.shape, data };
  } finally {
    await reader.close();
  }
}

/** Random-access row reader over a 1-D or 2-D .npy file that never loads the file whole. */
export class NpyRowReader {
  private constructor(
    private readonly handle: Awaited<ReturnType<typeof open>>,
    readonly header: NpyHeader,
    private readonly fileSize: number,
  ) {}

  static async open(path: string): Promise<NpyRowReader> {
    const handle = await open(path, 'r');
    try {
      const head = Buffer.alloc(65_536 + 16);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      const header = parseNpyHeader(head.subarray(0, bytesRead));
      if (header.shape.length > 2)
        throw new NpyFormatError(
          `expected a 1-D or 2-D array, got shape ${quote(`(${header.shape.join(', ')})`)}`,
        );
      const { size } = await handle.stat();
      const reader = new NpyRowReader(handle, header, size);
      const expected = header.dataOffset + reader.rows * reader.rowWidth * reader.itemSize;
      if (size < expected) {
        throw new NpyFormatError(`truncated .npy data: expected ${expected} bytes, file has ${size}`);
      }
      return reader;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  get shape(): number[] {
    return this.header.shape;
  }
  get rows(): number {
    return this.header.shape[0] ?? 1;
  }
  get rowWidth(): number {
    return this.header.shape[1] ?? 1;
  }
  private get itemSize(): number {
    return this.header.dtype === '<f4' ? 4 : 8;
  }

  /** Rows [start, start + count) as one float32 array. */
  async readRows(start: number, count: number): Promise<Float32Array> {
    const width = this.rowWidth;
    const bytes = count * width * this.itemSize;
    const buffer = Buffer.alloc(bytes);
    const position = this.header.dataOffset + start * width * this.itemSize;
    if (position + bytes > this.fileSize) throw new NpyFormatError('read past the end of the .npy file');
    await this.handle.read(buffer, 0, bytes, position);
    if (this.header.dtype === '<f4') {
      return new Float32Array(buffer.buffer, buffer.byteOffset, count * width).slice();
    }
    const out = new Float32Array(count * width);
    for (let i = 0; i < out.length; i += 1) out[i] = buffer.readDoubleLE(i * 8);
    return out;
  }

  readRow(index: number): Promise<Float32Array> {
    return this.readRows(index, 1);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** The .npy (format 1.0) header of a float32 C-order array of this shape; the data follows it. */
export function npyHeader(shape: number[]): Buffer {
  const shapeText = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shapeText}), }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  MAGIC.copy(prefix, 0);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1')]);
}

/** Encode a float32 array of the given shape as .npy (format 1.0). */
export function encodeNpy(data: Float32Array, shape: number[]): Buffer {
  const expected = shape.reduce((a, b) => a * b, 1);
  if (expected !== data.length)
    throw new Error(`shape (${shape.join(', ')}) does not hold ${data.length} values`);
  return Buffer.concat([npyHeader(shape), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}
