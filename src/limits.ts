/** Every limit the gateway enforces, in one place (the README's "Limits" lists the same). */

/** Embedding width of the catalog at most. */
export const MAX_EMBEDDING_DIM = 16_384;
/** Characters of an item title at most. */
export const MAX_TITLE_LENGTH = 1_000;
/** Characters of an item image URL at most. */
export const MAX_URL_LENGTH = 4_096;
/** Items one `upsertItems` call may write (the import command takes more). */
export const MAX_ITEMS_PER_UPSERT = 1_000;
/** Entries of one connection page at most. */
export const MAX_PAGE_SIZE = 500;
/** Entries of one `recommend` answer at most. */
export const MAX_RECOMMENDATIONS = 200;
/** Items one `verifierScores` call may score. */
export const MAX_SCORED_ITEMS = 1_000;
/** Bytes of one HTTP request body at most. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Embeddings one generation job may ask for. */
export const MAX_COUNT = 64;
/** Candidates one kept item may be chosen from. */
export const MAX_CANDIDATES = 16;
/** Classifier-free guidance scales outside 0..this are refused (the paper sweeps 3.5..20). */
export const MAX_GUIDANCE = 50;
/** Verifier guidance scales outside 0..this are refused (standardised units per step). */
export const MAX_VERIFIER_GUIDANCE = 2;
/** Unfinished (queued or running) jobs one user may have. */
export const MAX_OPEN_JOBS_PER_USER = 8;
/** Unfinished jobs overall; beyond it `generate` answers RESOURCE_EXHAUSTED. */
export const MAX_OPEN_JOBS = 1_000;
/** Progress events kept per job for subscribers who arrive late (a DDPM run of 1000 steps fits). */
export const MAX_REPLAYED_EVENTS = 1_024;
/** Ratings of catalog items a user needs before a taste-conditioned prior generates for them. */
export const MIN_RATINGS_FOR_TASTE = 5;
