/**
 * The picture attributes of the taste world. Small on purpose (5 attributes, 4-6 values each, 3,600
 * configurations) so that a person can read a user's taste off a contact sheet.
 */

export interface AttributeSpec {
  name: string;
  values: readonly string[];
}

export const ATTRIBUTES: readonly AttributeSpec[] = [
  { name: 'subject', values: ['orb', 'peak', 'tower', 'star', 'flower', 'crescent'] },
  { name: 'palette', values: ['sunset', 'ocean', 'forest', 'mono', 'candy', 'ember'] },
  { name: 'texture', values: ['plain', 'stripes', 'dots', 'checks', 'waves'] },
  { name: 'composition', values: ['centered', 'thirds', 'pair', 'scatter', 'closeup'] },
  { name: 'lighting', values: ['day', 'dusk', 'night', 'haze'] },
];

/** Value indices, one per attribute, in {@link ATTRIBUTES} order. */
export type AttributeCodes = ArrayLike<number>;

/** Attribute name -> value name. */
export type AttributeValues = Record<string, string>;

export function attributeValues(codes: AttributeCodes): AttributeValues {
  const values: AttributeValues = {};
  ATTRIBUTES.forEach((attribute, a) => {
    values[attribute.name] = attribute.values[codes[a] ?? 0] ?? '?';
  });
  return values;
}

export function attributeCodesFromValues(values: AttributeValues): number[] {
  return ATTRIBUTES.map((attribute) => {
    const value = values[attribute.name];
    const index = value === undefined ? -1 : attribute.values.indexOf(value);
    if (index < 0) throw new Error(`unknown ${attribute.name} value ${String(value)}`);
    return index;
  });
}

const PHRASES = {
  texture: { plain: 'plain', stripes: 'striped', dots: 'dotted', checks: 'checked', waves: 'wavy' },
  composition: {
    centered: 'centred',
    thirds: 'off-centre',
    pair: 'pair',
    scatter: 'scattered',
    closeup: 'close-up',
  },
  lighting: { day: 'daylight', dusk: 'dusk', night: 'night', haze: 'haze' },
} as const;

/** A short human title such as "Sunset star pair, striped ground, dusk" (no commas-only fields). */
export function attributeTitle(codes: AttributeCodes): string {
  const v = attributeValues(codes);
  const palette = v.palette ?? '';
  const texture = PHRASES.texture[v.texture as keyof typeof PHRASES.texture] ?? v.texture;
  const composition = PHRASES.composition[v.composition as keyof typeof PHRASES.composition] ?? '';
  const lighting = PHRASES.lighting[v.lighting as keyof typeof PHRASES.lighting] ?? '';
  const head = `${palette.charAt(0).toUpperCase()}${palette.slice(1)} ${v.subject ?? ''} ${composition}`;
  return `${head} - ${texture} ground - ${lighting}`;
}

export const ATTRIBUTE_VALUE_TOTAL = ATTRIBUTES.reduce((sum, attribute) => sum + attribute.values.length, 0);
