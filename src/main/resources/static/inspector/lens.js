// Logit lens: for each layer (last at the top) and position, the most likely next token if the residual stream after
// that block went straight to the final LayerNorm and the output head; shaded by its probability, on a log scale from a
// uniform guess to certainty.
import { aboveUniform, element, ink, percent, shade, tokenText } from './format.js';

export function render(logitLens, tokens) {
  const table = document.getElementById('lens');
  table.replaceChildren();
  if (!logitLens) {
    return;
  }
  const head = element('thead');
  const names = element('tr');
  names.append(element('th', 'lens-corner', 'layer \\ after'));
  tokens.forEach(token => {
    const th = element('th', '', tokenText(token.text));
    th.scope = 'col';
    names.append(th);
  });
  head.append(names);
  const body = element('tbody');
  for (let l = logitLens.length - 1; l >= 0; l--) {
    const row = element('tr');
    const th = element('th', '', l === logitLens.length - 1 ? `${l} (output)` : String(l));
    th.scope = 'row';
    row.append(th);
    logitLens[l].forEach((cell, p) => {
      const best = cell.top[0];
      const td = element('td', 'lens-cell');
      td.dataset.token = best.token;
      td.style.background = shade(aboveUniform(best.prob));
      td.style.color = ink(aboveUniform(best.prob));
      td.append(element('span', 'lens-token', tokenText(best.text)), element('span', 'lens-prob', percent(best.prob)));
      td.title = `layer ${l}, after "${tokens[p].text}":\n`
          + cell.top.map(t => `${tokenText(t.text)}  ${percent(t.prob)}`).join('\n');
      row.append(td);
    });
    body.append(row);
  }
  table.append(head, body);
}
