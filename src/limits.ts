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
/** Unfinished generation jobs one API key may have across all its users (a key cannot fill every user's slots). */
export const MAX_OPEN_JOBS_PER_KEY = 32;
/** Unfinished jobs overall; beyond it `generate` answers RESOURCE_EXHAUSTED. */
export const MAX_OPEN_JOBS = 1_000;
/** Progress events kept per job for subscribers who arrive late (a DDPM run of 1000 steps fits). */
export const MAX_REPLAYED_EVENTS = 1_024;
/** Ratings of catalog items a user needs before a taste-conditioned prior generates for them. */
export const MIN_RATINGS_FOR_TASTE = 5;

/** Nesting of fields in one GraphQL operation at most (introspection excepted). */
export const MAX_QUERY_DEPTH = 8;
/** Aliases in one GraphQL operation at most (each may repeat an expensive field). */
export const MAX_QUERY_ALIASES = 15;
/** Directives in one GraphQL operation at most. */
export const MAX_QUERY_DIRECTIVES = 20;
/** Lexical tokens of one GraphQL document at most (the full introspection query has about 200). */
export const MAX_QUERY_TOKENS = 2_000;
/**
 * Cost of one operation at most: each object resolved costs 1, lists multiply what their entries cost by
 * their size (`first`, `count`, the length of `items`), ML fields add their weight (query-limits.ts).
 */
export const MAX_QUERY_COST = 25_000;
/** Longest a query or mutation may run before its remaining fields stop (QUERY_TIMEOUT). */
export const DEFAULT_QUERY_TIMEOUT_MS = 15_000;
/** Operations open at once on one WebSocket (subscriptions included). */
export const MAX_OPERATIONS_PER_SOCKET = 100;
/** Subscribers of one job's progress in one process. */
export const MAX_WATCHERS_PER_JOB = 1_000;
/** Bytes a WebSocket may have waiting to be sent before it is closed as a slow consumer. */
export const MAX_SOCKET_BUFFERED_BYTES = 16 * 1024 * 1024;
/** Request bodies being read at once may hold this many bytes in all; beyond it requests get 503. */
export const MAX_BODY_BYTES_IN_FLIGHT = 256 * 1024 * 1024;
/** Longest a client may take to send its request headers, and its whole request. */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 120_000;
/** Idle keep-alive HTTP connections are closed after this long. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** TCP connections (HTTP and WebSocket) one gateway holds at once. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Characters of a client-supplied value an error message may quote. */
export const MAX_QUOTED_CHARS = 64;
/** Characters of one logged string field (SQL, parameters, messages). */
export const MAX_LOGGED_CHARS = 2_000;
