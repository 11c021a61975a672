import { attributeTitle, attributeValues, type AttributeCodes } from './attributes.js';

interface Palette {
  skyTop: string;
  skyBottom: string;
  subject: string;
  accent: string;
}

const PALETTES: Record<string, Palette> = {
  sunset: { skyTop: '#ffcf7a', skyBottom: '#e8557a', subject: '#3b1f5e', accent: '#fff1b8' },
  ocean: { skyTop: '#c9efff', skyBottom: '#2a7fc1', subject: '#0b3a66', accent: '#ffffff' },
  forest: { skyTop: '#e3f2c9', skyBottom: '#3f7d4a', subject: '#1f3d24', accent: '#f3d36b' },
  mono: { skyTop: '#f4f4f4', skyBottom: '#8a8a8a', subject: '#1e1e1e', accent: '#ffffff' },
  candy: { skyTop: '#ffd6ec', skyBottom: '#9fe8d9', subject: '#ff4f97', accent: '#6b4dff' },
  ember: { skyTop: '#b3261e', skyBottom: '#2a0808', subject: '#ffb000', accent: '#ffe9c2' },
};

type Placement = [cx: number, cy: number, r: number];

const PLACEMENTS: Record<string, Placement[]> = {
  centered: [[64, 66, 34]],
  thirds: [[44, 52, 25]],
  pair: [
    [38, 74, 19],
    [88, 56, 24],
  ],
  scatter: [
    [28, 30, 11],
    [92, 26, 10],
    [62, 62, 13],
    [30, 96, 10],
    [98, 94, 12],
  ],
  closeup: [[72, 80, 64]],
};

const f = (x: number) => Number(x.toFixed(2)).toString();

function starPath(cx: number, cy: number, r: number): string {
  const points: string[] = [];
  for (let i = 0; i < 10; i += 1) {
    const radius = i % 2 === 0 ? r : r * 0.45;
    const angle = -Math.PI / 2 + (i * Math.PI) / 5;
    points.push(`${f(cx + radius * Math.cos(angle))},${f(cy + radius * Math.sin(angle))}`);
  }
  return `M${points.join('L')}Z`;
}

function subjectShape(subject: string, [cx, cy, r]: Placement, fill: string, accent: string, id: string) {
  const stroke = `stroke="${accent}" stroke-width="${f(Math.max(1, r / 14))}" stroke-opacity="0.7"`;
  switch (subject) {
    case 'orb':
      return `<circle cx="${f(cx)}" cy="${f(cy)}" r="${f(r)}" fill="url(#${id}-orb)" ${stroke}/>`;
    case 'peak':
      return (
        `<path d="M${f(cx - r)},${f(cy + r * 0.8)}L${f(cx)},${f(cy - r)}L${f(cx + r)},${f(cy + r * 0.8)}Z" fill="${fill}" ${stroke}/>` +
        `<path d="M${f(cx - r * 0.34)},${f(cy - r * 0.32)}L${f(cx)},${f(cy - r)}L${f(cx + r * 0.34)},${f(cy - r * 0.32)}L${f(cx + r * 0.1)},${f(cy - r * 0.42)}L${f(cx - r * 0.12)},${f(cy - r * 0.28)}Z" fill="${accent}"/>`
      );
    case 'tower': {
      const w = r * 0.9;
      const windows: string[] = [];
      for (let row = 0; row < 3; row += 1) {
        for (let col = 0; col < 2; col += 1) {
          const x = cx - w / 2 + w * (0.2 + col * 0.4);
          const y = cy - r + r * (0.35 + row * 0.5);
          windows.push(
            `<rect x="${f(x)}" y="${f(y)}" width="${f(w * 0.2)}" height="${f(r * 0.25)}" fill="${accent}"/>`,
          );
        }
      }
      return (
        `<rect x="${f(cx - w / 2)}" y="${f(cy - r)}" width="${f(w)}" height="${f(r * 1.9)}" rx="${f(r * 0.08)}" fill="${fill}" ${stroke}/>` +
        windows.join('')
      );
    }
    case 'star':
      return `<path d="${starPath(cx, cy, r)}" fill="${fill}" ${stroke} stroke-linejoin="round"/>`;
    case 'flower': {
      const petals: string[] = [];
      for (let i = 0; i < 6; i += 1) {
        const angle = (i * Math.PI) / 3;
        const px = cx + r * 0.5 * Math.cos(angle);
        const py = cy + r * 0.5 * Math.sin(angle);
        petals.push(
          `<ellipse cx="${f(px)}" cy="${f(py)}" rx="${f(r * 0.5)}" ry="${f(r * 0.28)}" transform="rotate(${f((angle * 180) / Math.PI)} ${f(px)} ${f(py)})" fill="${fill}" ${stroke}/>`,
        );
      }
      return `${petals.join('')}<circle cx="${f(cx)}" cy="${f(cy)}" r="${f(r * 0.26)}" fill="${accent}"/>`;
    }
    default:
      return `<path d="M${f(cx)},${f(cy - r)}A${f(r)},${f(r)} 0 1 0 ${f(cx)},${f(cy + r)}A${f(r * 0.62)},${f(r)} 0 1 1 ${f(cx)},${f(cy - r)}Z" fill="${fill}" ${stroke}/>`;
  }
}

function texturePattern(texture: string, id: string, color: string): string {
  const open = `<pattern id="${id}-tex" patternUnits="userSpaceOnUse"`;
  switch (texture) {
    case 'stripes':
      return `${open} width="10" height="10" patternTransform="rotate(35)"><rect width="4" height="10" fill="${color}"/></pattern>`;
    case 'dots':
      return `${open} width="12" height="12"><circle cx="6" cy="6" r="2.4" fill="${color}"/></pattern>`;
    case 'checks':
      return `${open} width="16" height="16"><rect width="8" height="8" fill="${color}"/><rect x="8" y="8" width="8" height="8" fill="${color}"/></pattern>`;
    case 'waves':
      return `${open} width="24" height="12"><path d="M0,6 Q6,0 12,6 T24,6" fill="none" stroke="${color}" stroke-width="2"/></pattern>`;
    default:
      return '';
  }
}

function lightingLayers(lighting: string, id: string): { behind: string; front: string } {
  switch (lighting) {
    case 'dusk':
      return {
        behind: `<rect width="128" height="128" fill="url(#${id}-dusk)"/>`,
        front: `<rect width="128" height="128" fill="#ff7a3d" opacity="0.16"/>`,
      };
    case 'night': {
      const stars = [
        [14, 12],
        [52, 8],
        [110, 16],
        [84, 36],
        [20, 48],
        [120, 60],
      ]
        .map(([x, y]) => `<circle cx="${x}" cy="${y}" r="1.1" fill="#fffbe0"/>`)
        .join('');
      return {
        behind: `<rect width="128" height="128" fill="#0a0f2e" opacity="0.62"/>${stars}`,
        front: `<rect width="128" height="128" fill="url(#${id}-vignette)"/>`,
      };
    }
    case 'haze':
      return { behind: '', front: `<rect width="128" height="128" fill="#ffffff" opacity="0.42"/>` };
    default:
      return {
        behind: `<circle cx="112" cy="16" r="22" fill="#ffffff" opacity="0.28"/>`,
        front: '',
      };
  }
}

export interface TileOptions {
  /** Prefix for gradient and pattern ids: tiles that share one document need distinct prefixes. */
  idPrefix?: string;
  /** Top-left corner when the tile is nested in a larger SVG. */
  x?: number;
  y?: number;
}

/** A deterministic 128x128 SVG picture of an attribute configuration. */
export function renderTile(codes: AttributeCodes, options: TileOptions = {}): string {
  const v = attributeValues(codes);
  const id = options.idPrefix ?? 'tile';
  const palette = PALETTES[v.palette ?? 'mono'] ?? (PALETTES.mono as Palette);
  const placements = PLACEMENTS[v.composition ?? 'centered'] ?? [];
  const lighting = lightingLayers(v.lighting ?? 'day', id);
  const pattern = texturePattern(v.texture ?? 'plain', id, palette.accent);
  const position = options.x === undefined ? '' : ` x="${options.x}" y="${options.y ?? 0}"`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg"${position} width="128" height="128" viewBox="0 0 128 128">`,
    `<title>${attributeTitle(codes)}</title>`,
    '<defs>',
    `<linearGradient id="${id}-sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${palette.skyTop}"/><stop offset="1" stop-color="${palette.skyBottom}"/></linearGradient>`,
    `<radialGradient id="${id}-orb" cx="0.35" cy="0.35" r="0.75"><stop offset="0" stop-color="${palette.accent}"/><stop offset="0.45" stop-color="${palette.subject}"/><stop offset="1" stop-color="${palette.subject}"/></radialGradient>`,
    `<linearGradient id="${id}-dusk" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#4b2a6b" stop-opacity="0.55"/><stop offset="1" stop-color="#ff8a3d" stop-opacity="0.35"/></linearGradient>`,
    `<radialGradient id="${id}-vignette" cx="0.5" cy="0.5" r="0.75"><stop offset="0.55" stop-color="#000000" stop-opacity="0"/><stop offset="1" stop-color="#000000" stop-opacity="0.55"/></radialGradient>`,
    pattern,
    '</defs>',
    `<rect width="128" height="128" fill="url(#${id}-sky)"/>`,
    pattern === '' ? '' : `<rect width="128" height="128" fill="url(#${id}-tex)" opacity="0.35"/>`,
    lighting.behind,
    ...placements.map((placement) =>
      subjectShape(v.subject ?? 'orb', placement, palette.subject, palette.accent, id),
    ),
    lighting.front,
    '</svg>',
  ]
    .filter((part) => part !== '')
    .join('');
}
