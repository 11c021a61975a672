import { MAX_QUOTED_CHARS } from '../limits.js';

/** A lone UTF-16 surrogate: PostgreSQL would store it as U+FFFD, so two ids could become one. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Whether the string is well-formed UTF-16 (no lone surrogates). */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** Why free text (a title, a URL) cannot be stored, or null: NUL bytes and lone surrogates cannot. */
export function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'contains a NUL character';
  if (!isWellFormedText(text)) return 'is not well-formed UTF-16 (a lone surrogate)';
  return null;
}

/** A client's value as an error message may quote it: JSON-escaped, at most a short prefix. */
export function quote(value: string, max = MAX_QUOTED_CHARS): string {
  const shown = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(isWellFormedText(shown) ? shown : shown.replace(/\p{Cs}/gu, '\uFFFD'));
}
