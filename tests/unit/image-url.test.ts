import { describe, expect, it } from 'vitest';
import { imageUrlProblem } from '../../src/lib/image-url.js';

describe('imageUrlProblem', () => {
  it.each([
    'https://example.com/a.png',
    'http://example.com:8080/pictures/1?v=2',
    'data:image/png;base64,iVBORw0KGgo=',
    'data:image/svg+xml;charset=utf-8,%3Csvg%3E',
  ])('accepts %s', (url) => expect(imageUrlProblem(url)).toBeNull());

  it.each([
    ['javascript:alert(1)', /scheme javascript:/],
    ['JAVASCRIPT:alert(1)', /scheme javascript:/],
    ['file:///etc/passwd', /scheme file:/],
    ['world:red/cat/centre/flat/soft', /scheme world:/],
    ['data:text/html,<script>alert(1)</script>', /scheme data:/],
    ['ftp://example.com/a.png', /scheme ftp:/],
    ['/relative/a.png', /not a URL/],
    ['https://', /not a URL/],
    ['ht\ttps://example.com/a.png', /control characters/],
    ['https://example.com/a\n.png', /control characters/],
    ['data:image/png;base64,iVBO\rRw0=', /control characters/],
    ['https:\\evil.example/a.png', /backslashes/],
    ['https://example.com/a b.png', /spaces/],
  ])('refuses %s', (url, problem) => expect(imageUrlProblem(url)).toMatch(problem));
});
