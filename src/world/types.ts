/** A user's latent taste: the oracle's parameters for that user. */
export interface WorldUser {
  id: string;
  archetype: number;
  breadth: 'broad' | 'typical' | 'narrow';
  /** Multiplier on the taste weights: narrow users have larger ones. */
  sharpness: number;
  /** Oracle bias b_u (sets the user's overall like rate). */
  bias: number;
  /** Oracle weights w_u[a][k], one row per attribute. */
  weights: number[][];
  /** Shifts scores within a like/dislike (how often 5 rather than 4, 3 rather than 1-2). */
  leniency: number;
  /** Relative rating activity (long-tailed). */
  activity: number;
}

/** The fixed map from attributes to embeddings, in whitened coordinates z = (e - mean) / scale. */
export interface WorldSpace {
  dim: number;
  mean: Float64Array;
  scale: Float64Array;
  /** Per-dimension standard deviation of the item noise in whitened units. */
  noise: number;
  /** One [K_a, D] row-major block of whitened prototypes per attribute. */
  prototypes: Float64Array[];
}

/** Everything the oracle and the decoder need (the content of truth.json, without the catalog). */
export interface World {
  formatVersion: 1;
  seed: number;
  preset: string;
  dim: number;
  /** Softmax temperature of the attribute posteriors (distances are mean squared per dimension). */
  temperature: number;
  space: WorldSpace;
  archetypes: { name: string; weights: number[][] }[];
  users: WorldUser[];
  userIndex: Map<string, number>;
}
