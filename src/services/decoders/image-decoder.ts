/** A picture for a generated embedding. */
export interface DecodedImage {
  mimeType: string;
  /** A data: URL (the taste world's SVG, or the bytes an HTTP decoder returned). */
  url: string;
}

/** Turns an embedding into an image; `null` when this decoder cannot decode that embedding. */
export interface ImageDecoder {
  readonly name: string;
  decode(embedding: Float32Array): Promise<DecodedImage | null>;
}

export const noDecoder: ImageDecoder = {
  name: 'none',
  decode: async () => null,
};
