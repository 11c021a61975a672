// eslint-disable-next-line no-control-regex -- control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f]/;

/** `data:` URLs of images only (a browser never runs an image's scripts); media type and parameters. */
const DATA_IMAGE = /^data:image\/[a-z0-9.+-]+(;[a-z0-9=.+-]+)*,/i;

/**
 * Why an item's image URL cannot be stored, or null. Only `http:`, `https:` (with a host) and
 * `data:image/...` are accepted: a frontend puts these URLs in pages, and `javascript:`, `file:` or
 * `data:text/html` there would be an attack on its users.
 */
export function imageUrlProblem(url: string): string | null {
  // A parser drops tabs and newlines and reads `\` as `/` in http(s) URLs: what is stored must be what
  // was checked, whatever parser a frontend uses.
  if (CONTROL.test(url)) return 'contains control characters (tabs, newlines)';
  if (DATA_IMAGE.test(url)) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL (http, https or data:image/...)';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return `has the scheme ${parsed.protocol.slice(0, 16)} where only http, https and data:image/... are accepted`;
  if (parsed.hostname === '') return 'has no host';
  if (/[\s\\]/.test(url)) return 'contains spaces or backslashes (percent-encode them)';
  return null;
}
