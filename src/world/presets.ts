/** Sizes and shape of a generated world. */
export interface WorldOptions {
  preset: string;
  seed: number;
  /** Embedding width D. */
  dim: number;
  users: number;
  items: number;
  /** Raters drawn per item (without replacement, weighted by user activity). */
  ratersPerItem: number;
  /** Log-normal sigma of user activity: larger means a longer tail of ratings per user. */
  activitySpread: number;
  /** Users below this many liked items get extra ratings until they reach it (0: no floor). */
  minLikedPerUser: number;
}

export type PresetName = 'tiny' | 'small' | 'demo' | 'flickr';

type Preset = Omit<WorldOptions, 'seed' | 'preset'>;

/**
 * demo: D = 64 holds all 26 attribute-value directions orthogonally with room to spare, so decoding is
 * exact and tastes are crisp, while a small diffusion prior (d_model 64) trains on 2 CPU cores in minutes;
 * 24 users x 500 ratings leaves every user well above 40 likes.
 */
export const PRESETS: Record<PresetName, Preset> = {
  tiny: { dim: 16, users: 6, items: 120, ratersPerItem: 4, activitySpread: 0.3, minLikedPerUser: 15 },
  small: { dim: 32, users: 12, items: 600, ratersPerItem: 5, activitySpread: 0.5, minLikedPerUser: 40 },
  demo: { dim: 64, users: 24, items: 1500, ratersPerItem: 8, activitySpread: 0.6, minLikedPerUser: 40 },
  flickr: {
    dim: 1024,
    users: 210,
    items: 40_000,
    ratersPerItem: 5,
    activitySpread: 1.4,
    minLikedPerUser: 20,
  },
};

export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(PRESETS, name);
}

export function worldOptions(
  preset: PresetName,
  seed: number,
  overrides: Partial<Omit<WorldOptions, 'preset' | 'seed'>> = {},
): WorldOptions {
  const base = PRESETS[preset];
  const options: WorldOptions = { preset, seed, ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) (options as unknown as Record<string, number>)[key] = value as number;
  }
  options.ratersPerItem = Math.min(options.ratersPerItem, options.users);
  return options;
}
