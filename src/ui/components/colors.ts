/** A theme colour from the CSS custom properties (light, dark and projector themes set them). */
export function cssColor(el: Element, name: string, fallback: string): string {
  const v = getComputedStyle(el).getPropertyValue(name).trim();
  return v || fallback;
}
