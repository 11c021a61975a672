/** The synthetic taste world: demo and test data with known ground truth (see README.md). */
export { ATTRIBUTES, attributeTitle, attributeValues, attributeCodesFromValues } from './attributes.js';
export { decodeEmbedding, type DecodedPicture } from './decode.js';
export { generateWorld, itemId, type GeneratedWorld } from './generate.js';
export { loadWorld, readTruth, readWorldRatings, writeWorld, WORLD_FILES } from './io.js';
export {
  attributePosteriors,
  likeLogitFromPosteriors,
  likeProbability,
  ORACLE_DESCRIPTION,
} from './oracle.js';
export { isPresetName, PRESETS, worldOptions, type PresetName, type WorldOptions } from './presets.js';
export { renderTile } from './render.js';
export { contactSheet } from './sheet.js';
export { worldFromTruth, type TruthFile } from './truth.js';
export { type World, type WorldUser } from './types.js';
