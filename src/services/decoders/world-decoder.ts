import {
  decodeEmbedding,
  generateWorld,
  worldOptions,
  type PresetName,
  type World,
} from '../../world/index.js';
import { type DecodedImage, type ImageDecoder } from './image-decoder.js';

/**
 * The taste world's decoder: the nearest attribute configuration's SVG. It rebuilds the world's
 * embedding space from its preset and seed (deterministic), so it needs no ground-truth file.
 */
export class WorldDecoder implements ImageDecoder {
  readonly name: string;
  private constructor(private readonly world: World) {
    this.name = `world:${world.preset}:${world.seed}`;
  }

  static create(preset: PresetName, seed: number): WorldDecoder {
    return new WorldDecoder(generateWorld(worldOptions(preset, seed)).world);
  }

  async decode(embedding: Float32Array): Promise<DecodedImage | null> {
    if (embedding.length !== this.world.dim) return null;
    const { svg } = decodeEmbedding(this.world, embedding);
    return {
      mimeType: 'image/svg+xml',
      url: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
    };
  }
}
