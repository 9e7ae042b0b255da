/* A tiny DOM builder: elements from data, never from HTML strings, so nothing the API returns can
 * become markup (the CSP forbids inline script anyway). */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>;

/** `h('a', { href: '/org', class: 'x', onclick: fn }, 'text', child)`; false/null attributes and children are left out. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Child | Child[]>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replaces the children of `el`. */
export function replace(el: Element, ...children: Array<Child | Child[]>): void {
  el.replaceChildren(...(children.flat().filter((c) => c !== null && c !== undefined && c !== false) as Array<Node | string>).map((c) => (c instanceof Node ? c : String(c))));
}

/** A number for people: `digits` decimals, or a dash for null. */
export function num(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? '–' : value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A rate (0..1) as a percentage. */
export function pct(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '–' : `${num(rate * 100, 1)} %`;
}

/** A status badge: text for everyone, a colour class for those who see it. */
export function badge(status: string | null | undefined): HTMLElement {
  const s = status ?? 'NONE';
  return h('span', { class: `badge st-${s.toLowerCase()}` }, s.replace(/_/g, ' ').toLowerCase());
}

/** A link inside the dashboard (history routing; main.ts intercepts the click). */
export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h('a', { href, 'data-link': true }, ...children);
}
