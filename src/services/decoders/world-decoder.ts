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
  /** Built at the first decode (~0.5 s for the demo world), not at every start. */
  private world: World | undefined;

  constructor(
    private readonly preset: PresetName,
    private readonly seed: number,
  ) {
    this.name = `world:${preset}:${seed}`;
  }

  async decode(embedding: Float32Array): Promise<DecodedImage | null> {
    this.world ??= generateWorld(worldOptions(this.preset, this.seed)).world;
    if (embedding.length !== this.world.dim) return null;
    const { svg } = decodeEmbedding(this.world, embedding);
    return {
      mimeType: 'image/svg+xml',
      url: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
    };
  }
}
