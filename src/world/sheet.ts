import { attributeValues } from './attributes.js';
import { renderTile } from './render.js';
import { type TruthFile } from './truth.js';

export interface SheetOptions {
  /** Tiles per side (liked, disliked). */
  perSide?: number;
  columns?: number;
}

const TILE = 128;
const GAP = 10;
const CAPTION = 42;
const HEADER = 92;

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A contact sheet for one user: up to `perSide` of their liked items (score >= 4, best first) beside up to
 * `perSide` disliked ones (worst first), each captioned with its score and title, under a header that
 * states the user's ground-truth taste, so a person can check that tastes are visible.
 */
export function contactSheet(
  truth: TruthFile,
  userId: string,
  ratings: { itemId: string; score: number }[],
  options: SheetOptions = {},
): string {
  const user = truth.users.find((candidate) => candidate.id === userId);
  if (user === undefined) throw new Error(`unknown user ${userId}`);
  const perSide = options.perSide ?? 12;
  const columns = options.columns ?? 4;
  const codesOf = (itemId: string) => truth.itemAttributes[Number(itemId.slice(2))] ?? [];
  // Within one score, the items the user's true taste rates highest (or lowest) come first.
  const taste = (itemId: string) =>
    codesOf(itemId).reduce((sum, code, a) => sum + (user.weights[a]?.[code] ?? 0), 0);
  const liked = ratings
    .filter((r) => r.score >= 4)
    .sort((a, b) => b.score - a.score || taste(b.itemId) - taste(a.itemId) || cmp(a.itemId, b.itemId));
  const disliked = ratings
    .filter((r) => r.score < 4)
    .sort((a, b) => a.score - b.score || taste(a.itemId) - taste(b.itemId) || cmp(a.itemId, b.itemId));
  const rows = Math.max(1, Math.ceil(perSide / columns));
  const panelWidth = columns * (TILE + GAP) - GAP;
  const width = 2 * panelWidth + 3 * 24 + 12;
  const height = HEADER + 28 + rows * (TILE + CAPTION + GAP) + 12;

  const favourites = truth.attributes
    .map((attribute, a) => {
      const row = user.weights[a] ?? [];
      const best = row.indexOf(Math.max(...row));
      const worst = row.indexOf(Math.min(...row));
      return {
        name: attribute.name,
        best: attribute.values[best],
        worst: attribute.values[worst],
        spread: Math.max(...row) - Math.min(...row),
      };
    })
    .sort((a, b) => b.spread - a.spread)
    .slice(0, 3);
  const tasteLine = favourites.map((x) => `${x.name}: likes ${x.best}, not ${x.worst}`).join('  ·  ');
  const archetype = truth.archetypes[user.archetype]?.name ?? '';

  const panel = (title: string, list: { itemId: string; score: number }[], left: number, tone: string) => {
    const shown = list.slice(0, perSide);
    const parts = [
      `<text x="${left}" y="${HEADER + 16}" font-size="17" font-weight="700" fill="${tone}">${escapeXml(title)} (${list.length})</text>`,
    ];
    shown.forEach((rating, index) => {
      const x = left + (index % columns) * (TILE + GAP);
      const y = HEADER + 28 + Math.floor(index / columns) * (TILE + CAPTION + GAP);
      const codes = codesOf(rating.itemId);
      parts.push(
        `<rect x="${x - 2}" y="${y - 2}" width="${TILE + 4}" height="${TILE + 4}" rx="4" fill="${tone}"/>`,
        renderTile(codes, { idPrefix: `${rating.itemId}`, x, y }),
        `<text x="${x}" y="${y + TILE + 13}" font-size="10.5" font-weight="700" fill="#222">${'★'.repeat(rating.score)}<tspan fill="#bbb">${'★'.repeat(5 - rating.score)}</tspan> <tspan font-weight="400" fill="#555">${rating.itemId}</tspan></text>`,
        ...captionLines(codes).map(
          (line, i) =>
            `<text x="${x}" y="${y + TILE + 25 + 11 * i}" font-size="9.5" fill="#444">${escapeXml(line)}</text>`,
        ),
      );
    });
    if (shown.length === 0)
      parts.push(`<text x="${left}" y="${HEADER + 60}" font-size="13" fill="#888">none</text>`);
    return parts.join('');
  };

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#fafaf7"/>`,
    `<text x="24" y="34" font-size="22" font-weight="700" fill="#1d1d1d">Taste of ${escapeXml(user.id)} — ${escapeXml(archetype)} (${user.breadth})</text>`,
    `<text x="24" y="58" font-size="13" fill="#444">${escapeXml(tasteLine)}</text>`,
    `<text x="24" y="78" font-size="12" fill="#777">world seed ${truth.seed}, preset ${escapeXml(truth.preset)}: ${ratings.length} ratings by this user; liked = score ≥ 4</text>`,
    panel('Liked', liked, 24, '#2e8b57'),
    panel('Disliked', disliked, 24 + panelWidth + 36, '#c0392b'),
    '</svg>',
  ].join('\n');
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Captions must fit under a 128 px tile: the attribute values on two short lines. */
function captionLines(codes: ArrayLike<number>): string[] {
  const values = Object.values(attributeValues(codes));
  return [values.slice(0, 3).join(' · '), values.slice(3).join(' · ')];
}
