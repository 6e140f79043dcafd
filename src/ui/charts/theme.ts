/**
 * The charts' colours: the app's CSS custom properties, so light, dark and projector themes apply
 * to canvas and SVG alike. Canvas cannot resolve var(), so it reads them with getComputedStyle at
 * draw time; SVG uses var() with the same fallback, which follows a theme switch by itself.
 */

export type ThemeColor =
  | 'text' | 'muted' | 'border' | 'panel' | 'bg'
  | 'primary' | 'backup' | 'live' | 'danger' | 'warn' | 'disk' | 'client';

export type Theme = Record<ThemeColor, string>;

/** The dark theme's values: used when a property is not defined on the host's ancestors. */
export const FALLBACK_THEME: Theme = {
  text: '#e2e8f0',
  muted: '#94a3b8',
  border: '#24324f',
  panel: '#111c33',
  bg: '#0f172a',
  primary: '#60a5fa',
  backup: '#4ade80',
  live: '#c084fc',
  danger: '#f87171',
  warn: '#fbbf24',
  disk: '#fb923c',
  client: '#22d3ee',
};

const COLOR_NAMES = Object.keys(FALLBACK_THEME) as ThemeColor[];

/** Every theme colour as the host sees it now (one style lookup per frame, not per mark). */
export function readTheme(host: Element): Theme {
  const style = getComputedStyle(host);
  const theme = { ...FALLBACK_THEME };
  for (const name of COLOR_NAMES) {
    const value = style.getPropertyValue(`--${name}`).trim();
    if (value !== '') theme[name] = value;
  }
  return theme;
}

/** The theme's --font-scale (1 unless the projector theme enlarges type). */
export function readFontScale(host: Element): number {
  const scale = parseFloat(getComputedStyle(host).getPropertyValue('--font-scale'));
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}

/**
 * A series colour for SVG: '--primary' becomes var(--primary, fallback); anything else is taken
 * as a CSS colour as it is.
 */
export function cssColor(spec: string): string {
  if (!spec.startsWith('--')) return spec;
  const known = FALLBACK_THEME[spec.slice(2) as ThemeColor];
  return known ? `var(${spec}, ${known})` : `var(${spec})`;
}
