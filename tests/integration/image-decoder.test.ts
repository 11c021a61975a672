import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpImageDecoder } from '../../src/services/decoders/http-decoder.js';
import { ImageCache } from '../../src/services/decoders/image-cache.js';
import { WorldDecoder } from '../../src/services/decoders/world-decoder.js';
import { generateWorld, worldOptions } from '../../src/world/index.js';

/** A stand-in Stable Diffusion + IP-Adapter service on loopback: checks the request, answers PNG bytes. */
describe('image decoders', () => {
  let server: Server;
  let url: string;
  const requests: { image_embeds: number[][][]; negative_image_embeds: number[][][] }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let failNext = false;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        requests.push(JSON.parse(body));
        setTimeout(() => {
          inFlight -= 1;
          if (failNext) {
            failNext = false;
            res.writeHead(503).end();
            return;
          }
          res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
        }, 30);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/decode`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends IP-Adapter image embeds of shape (1, 1, D) with an all-zero negative and returns a data URL', async () => {
    const image = await new HttpImageDecoder(url).decode(Float32Array.from([0.5, -1, 2]));
    expect(image).toEqual({
      mimeType: 'image/png',
      url: `data:image/png;base64,${Buffer.from([0x89, 0x50, 0x4e, 0x47]).toString('base64')}`,
    });
    expect(requests.at(-1)).toEqual({ image_embeds: [[[0.5, -1, 2]]], negative_image_embeds: [[[0, 0, 0]]] });
  });

  it('decodes each item once, shares concurrent reads, limits concurrency and retries failures', async () => {
    const cache = new ImageCache(new HttpImageDecoder(url));
    const before = requests.length;
    const embedding = Float32Array.from([1, 2, 3]);
    const same = await Promise.all([cache.imageFor('a', embedding), cache.imageFor('a', embedding)]);
    expect(same[0]).toEqual(same[1]);
    await cache.imageFor('a', embedding);
    expect(requests.length - before).toBe(1);

    maxInFlight = 0;
    await Promise.all(Array.from({ length: 10 }, (_, i) => cache.imageFor(`item-${i}`, embedding)));
    // Ten reads at once, each held 30 ms by the service: exactly the limit of 4 overlap.
    expect(maxInFlight).toBe(4);

    failNext = true;
    await expect(cache.imageFor('flaky', embedding)).rejects.toThrow(/503/);
    await expect(cache.imageFor('flaky', embedding)).resolves.toMatchObject({ mimeType: 'image/png' });
  });

  it('decodes an embedding of the taste world to its picture, and declines other widths', async () => {
    const { world, embeddings } = generateWorld(worldOptions('tiny', 5));
    const decoder = new WorldDecoder('tiny', 5);
    const image = await decoder.decode(embeddings.subarray(0, world.dim));
    expect(image?.mimeType).toBe('image/svg+xml');
    expect(Buffer.from(image?.url.split(',')[1] ?? '', 'base64').toString()).toMatch(/^<svg/);
    expect(await decoder.decode(new Float32Array(world.dim + 1))).toBeNull();
  });
});
