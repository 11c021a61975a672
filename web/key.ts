// The API key the page and GraphiQL send: kept in this browser's localStorage (this origin only), taken
// from a `#key=...` link (the one `npm start` prints at a first start) and pasted into the page's form.
// It goes out as `Authorization: Bearer <key>` over HTTP and as `{"authorization": "Bearer <key>"}` in
// the graphql-ws connection payload; the gateway never sees it in a URL.

/** Where the key is kept; GraphiQL at /graphql reads the same entry. */
export const KEY_STORAGE = 'rebeca-gateway.key';

/** What the gateway issues: `rbk_` and 43 base64url characters. */
export const KEY_FORMAT = /^rbk_[A-Za-z0-9_-]{43}$/;

/** The key of this page's life, where the browser keeps no localStorage (it throws). */
let unstored: string | undefined;

/** The stored key, if any. */
export function storedKey(): string | undefined {
  let key: string | undefined;
  try {
    key = window.localStorage.getItem(KEY_STORAGE)?.trim();
  } catch {
    key = unstored;
  }
  return key === undefined || key === '' ? undefined : key;
}

/** Keep a key (undefined forgets it): in localStorage, or for this page's life if the browser refuses. */
export function writeKey(key: string | undefined): void {
  unstored = key;
  try {
    if (key === undefined) window.localStorage.removeItem(KEY_STORAGE);
    else window.localStorage.setItem(KEY_STORAGE, key);
  } catch {
    // localStorage is off (a privacy setting): the key lives until the page closes.
  }
}

/** A pasted key without what often comes with it: spaces, quotes, a `Bearer ` in front. */
export function cleanKey(text: string): string {
  return text
    .trim()
    .replace(/^["']|["']$/g, '')
    .replace(/^Bearer\s+/i, '')
    .trim();
}

/** The value of the Authorization header (and of the connection payload's `authorization`). */
export function authorization(key: string | undefined = storedKey()): string | undefined {
  return key === undefined ? undefined : `Bearer ${key}`;
}

/**
 * A `key=...` in the fragment (`/#key=rbk_...`, possibly beside `user=...` with `&`), taken out of the
 * address bar (and of this history entry) with history.replaceState, whatever else the fragment says
 * staying. Returns the key, for the caller to store; undefined when the fragment has none.
 */
export function takeKeyFromFragment(): string | undefined {
  const parts = window.location.hash.replace(/^#/, '').split('&');
  const keyPart = parts.find((part) => part.startsWith('key='));
  if (keyPart === undefined) return undefined;
  const rest = parts.filter((part) => !part.startsWith('key=') && part !== '').join('&');
  const { pathname, search } = window.location;
  window.history.replaceState(
    window.history.state,
    '',
    `${pathname}${search}${rest === '' ? '' : `#${rest}`}`,
  );
  try {
    const key = cleanKey(decodeURIComponent(keyPart.slice('key='.length)));
    return key === '' ? undefined : key;
  } catch {
    return undefined; // not URI-encoded text: no key
  }
}

/** How the page names a key without showing it: its first 10 characters, the prefix the gateway keeps. */
export function keyLabel(key: string): string {
  return `${key.slice(0, 10)}…`;
}
