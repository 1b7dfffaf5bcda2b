// How numbers and tokens are written on the page.

/** A token's text with its spaces and line breaks visible. */
export function tokenText(text) {
  return text.replace(/ /g, '\u2423').replace(/\n/g, '\u21b5').replace(/\t/g, '\u21e5') || '\u2205';
}

/** A probability as a percentage with three significant digits (scientific below 0.01%). */
export function percent(p) {
  if (p === 0) {
    return '0%';
  }
  const pct = p * 100;
  return pct >= 0.01 ? `${pct.toPrecision(3)}%` : `${pct.toExponential(2)}%`;
}

export function count(n) {
  return n.toLocaleString('en-US');
}

/** A colour for a value in [0, 1]: from the page's background to a strong blue. */
export function shade(value) {
  const v = Math.max(0, Math.min(1, value));
  return `rgba(37, 99, 235, ${(0.08 + 0.92 * v).toFixed(3)})`;
}

/**
 * Where a probability lies between a uniform guess over GPT-2's 50,257 tokens (0) and certainty (1), on a log scale:
 * a shade that tells apart 0.02% from 0.002%, which a linear one would not.
 */
export function aboveUniform(p) {
  return Math.max(0, Math.log(p * 50257) / Math.log(50257));
}

/** Text that stays readable on shade(value). */
export function ink(value) {
  return value > 0.55 ? '#fff' : '#111';
}

/** Creates an element with a class and text. */
export function element(tag, className, text) {
  const e = document.createElement(tag);
  if (className) {
    e.className = className;
  }
  if (text !== undefined) {
    e.textContent = text;
  }
  return e;
}
