// Attention: a layers x heads grid of small heat maps; a chosen head opens as a head view (bertviz style: each token
// on the left linked to the tokens it attends to on the right) beside a large map with token labels.
import { element, shade, tokenText } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';
const ROW = 20;        // px between tokens in the head view
const CELL = 14;       // px of one cell in the large map
const LABEL = 90;      // px for the large map's token labels

let current = null;    // {attention, tokens}

export function render(attention, tokens) {
  current = { attention, tokens };
  const grid = document.getElementById('attention-grid');
  grid.replaceChildren();
  document.getElementById('head-detail').hidden = true;
  if (!attention) {
    grid.append(element('p', 'muted', 'Attention was not asked for.'));
    return;
  }
  const heads = attention.find(layer => layer)?.length ?? 0;
  grid.style.gridTemplateColumns = `auto repeat(${heads}, minmax(0, 1fr))`;
  grid.append(element('span', 'grid-corner', ''));
  for (let h = 0; h < heads; h++) {
    grid.append(element('span', 'grid-head', `h${h}`));
  }
  attention.forEach((layer, l) => {
    grid.append(element('span', 'grid-layer', `L${l}`));
    for (let h = 0; h < heads; h++) {
      const cell = element('button', 'head');
      cell.type = 'button';
      cell.dataset.layer = l;
      cell.dataset.head = h;
      cell.setAttribute('aria-label', `Layer ${l}, head ${h}`);
      if (layer) {
        cell.append(thumbnail(layer[h]));
        cell.addEventListener('click', () => open(l, h));
      } else {
        cell.disabled = true;
      }
      grid.append(cell);
    }
  });
}

/** One head's weights as a canvas of T x T pixels, row q holding keys 0..q. */
function thumbnail(rows) {
  const t = rows.length;
  const canvas = document.createElement('canvas');
  canvas.width = t;
  canvas.height = t;
  const context = canvas.getContext('2d');
  const image = context.createImageData(t, t);
  rows.forEach((row, q) => row.forEach((w, k) => {
    const i = 4 * (q * t + k);
    image.data[i] = 37;
    image.data[i + 1] = 99;
    image.data[i + 2] = 235;
    image.data[i + 3] = Math.round(255 * (0.06 + 0.94 * Math.sqrt(w)));
  }));
  context.putImageData(image, 0, 0);
  return canvas;
}

function open(layer, head) {
  const rows = current.attention[layer][head];
  const tokens = current.tokens;
  document.querySelectorAll('#attention-grid .head.selected').forEach(b => b.classList.remove('selected'));
  document.querySelector(`#attention-grid .head[data-layer="${layer}"][data-head="${head}"]`).classList.add('selected');
  const detail = document.getElementById('head-detail');
  detail.hidden = false;
  detail.dataset.layer = layer;
  detail.dataset.head = head;
  document.getElementById('head-title').textContent = `Layer ${layer}, head ${head}`;
  const map = largeMap(rows, tokens);
  document.getElementById('head-view').replaceChildren(headView(rows, tokens, map));
  document.getElementById('head-map').replaceChildren(map.svg);
  detail.scrollIntoView({ block: 'nearest' });
}

/** Tokens in two columns; pointing at (or focusing) a query token draws its weights as lines to the keys. */
function headView(rows, tokens, map) {
  const t = tokens.length;
  const view = element('div', 'head-view-inner');
  const left = element('ol', 'head-tokens queries');
  const right = element('ol', 'head-tokens keys');
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'head-lines');
  svg.setAttribute('width', 80);
  svg.setAttribute('height', t * ROW);
  svg.setAttribute('aria-hidden', 'true');
  const keys = tokens.map(token => {
    const li = element('li', 'head-token', tokenText(token.text));
    right.append(li);
    return li;
  });
  const readout = element('p', 'muted head-readout');
  const show = q => {
    svg.replaceChildren();
    keys.forEach((key, k) => {
      const w = k <= q ? rows[q][k] : 0;
      key.style.background = k <= q ? shade(w) : '';
      key.style.color = w > 0.55 ? '#fff' : '';
      if (k <= q) {
        const line = document.createElementNS(SVG, 'line');
        line.setAttribute('x1', 0);
        line.setAttribute('y1', q * ROW + ROW / 2);
        line.setAttribute('x2', 80);
        line.setAttribute('y2', k * ROW + ROW / 2);
        line.setAttribute('stroke', '#2563eb');
        line.setAttribute('stroke-width', 1 + 3 * w);
        line.setAttribute('stroke-opacity', Math.max(0.04, w));
        svg.append(line);
      }
    });
    const strongest = rows[q].map((w, k) => [w, k]).sort((a, b) => b[0] - a[0]).slice(0, 3)
        .map(([w, k]) => `\u201c${tokenText(tokens[k].text)}\u201d ${(100 * w).toFixed(1)}%`).join(', ');
    readout.textContent = `\u201c${tokenText(tokens[q].text)}\u201d attends most to ${strongest}`;
    map.highlight(q);
  };
  tokens.forEach((token, q) => {
    const li = element('li', 'head-token', tokenText(token.text));
    li.tabIndex = 0;
    li.setAttribute('aria-label', `token ${q}: ${token.text}`);
    li.addEventListener('mouseenter', () => show(q));
    li.addEventListener('focus', () => show(q));
    left.append(li);
  });
  view.append(left, svg, right);
  show(t - 1);
  const wrapper = element('div', '');
  wrapper.append(view, readout);
  return wrapper;
}

/** The head's weights as an SVG heat map with the tokens along both sides; highlight(q) marks one row. */
function largeMap(rows, tokens) {
  const t = tokens.length;
  const size = LABEL + t * CELL;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('width', size);
  svg.setAttribute('height', size);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'Attention map: queries down, keys across');
  const label = (text, x, y, anchor, rotate) => {
    const e = document.createElementNS(SVG, 'text');
    e.setAttribute('x', x);
    e.setAttribute('y', y);
    e.setAttribute('text-anchor', anchor);
    e.setAttribute('class', 'map-label');
    if (rotate) {
      e.setAttribute('transform', `rotate(-60 ${x} ${y})`);
    }
    e.textContent = text.length > 12 ? `${text.slice(0, 11)}\u2026` : text;
    svg.append(e);
  };
  tokens.forEach((token, i) => {
    label(tokenText(token.text), LABEL - 4, LABEL + i * CELL + CELL * 0.75, 'end', false);
    label(tokenText(token.text), LABEL + i * CELL + CELL * 0.6, LABEL - 4, 'start', true);
  });
  rows.forEach((row, q) => row.forEach((w, k) => {
    const cell = document.createElementNS(SVG, 'rect');
    cell.setAttribute('x', LABEL + k * CELL);
    cell.setAttribute('y', LABEL + q * CELL);
    cell.setAttribute('width', CELL - 1);
    cell.setAttribute('height', CELL - 1);
    cell.setAttribute('fill', shade(Math.sqrt(w)));
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${tokens[q].text} \u2192 ${tokens[k].text}: ${(100 * w).toFixed(2)}%`;
    cell.append(title);
    svg.append(cell);
  }));
  const band = document.createElementNS(SVG, 'rect');
  band.setAttribute('x', LABEL - 2);
  band.setAttribute('width', t * CELL + 2);
  band.setAttribute('height', CELL);
  band.setAttribute('class', 'map-row');
  svg.append(band);
  return { svg, highlight: q => band.setAttribute('y', LABEL + q * CELL - 1) };
}
