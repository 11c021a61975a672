import { type DecodedImage, type ImageDecoder } from './image-decoder.js';

/** Longest wait for the image service. */
const TIMEOUT_MS = 120_000;

/**
 * A Stable Diffusion 1.5 + IP-Adapter service over HTTP. Request (POST, JSON):
 * `{ "image_embeds": [[[...D floats]]], "negative_image_embeds": [[[...D zeros]]] }`, i.e. IP-Adapter
 * image embeds of shape (1, 1, D) with an all-zero negative, as the reference code passes them to
 * `ip_adapter_image_embeds` (stacked as [negative, positive] when text guidance is on).
 * Response: the image bytes, with their content type (image/png, image/jpeg...).
 */
export class HttpImageDecoder implements ImageDecoder {
  readonly name: string;
  constructor(private readonly url: string) {
    this.name = `http:${new URL(url).host}`;
  }

  async decode(embedding: Float32Array): Promise<DecodedImage | null> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'image/*' },
      body: JSON.stringify({
        image_embeds: [[Array.from(embedding)]],
        negative_image_embeds: [[new Array<number>(embedding.length).fill(0)]],
      }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`image decoder answered ${response.status} ${response.statusText}`);
    const mimeType = response.headers.get('content-type')?.split(';')[0] ?? 'application/octet-stream';
    const bytes = Buffer.from(await response.arrayBuffer());
    return { mimeType, url: `data:${mimeType};base64,${bytes.toString('base64')}` };
  }
}
