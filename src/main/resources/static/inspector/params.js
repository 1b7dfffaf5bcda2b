// Parameters: /model/params as bars, per component of the model and per part of one transformer block.
import { count, element } from './format.js';

function bars(title, entries, total) {
  const figure = element('figure', 'param-chart');
  figure.append(element('figcaption', '', title));
  const list = element('ul', 'bars');
  const largest = Math.max(...entries.map(([, n]) => n));
  for (const [name, n] of entries) {
    const row = element('li', 'bar-row');
    row.dataset.part = name;
    const track = element('span', 'bar-track');
    const bar = element('span', 'bar');
    bar.style.width = `${(100 * n / largest).toFixed(2)}%`;
    track.append(bar);
    row.append(element('span', 'bar-label', name), track,
        element('span', 'sampled', count(n)), element('span', 'prob muted', `${(100 * n / total).toFixed(1)}%`));
    list.append(row);
  }
  figure.append(list);
  return figure;
}

export function render(params) {
  const c = params.components;
  const b = params.perBlock;
  const cfg = params.config;
  const summary = element('p', '', `${count(params.totalParameters)} parameters (${params.sizeMb} MB as float32); `
      + `${count(params.parametersWithWeightTying)} with weight tying`
      + (params.tiedOutputHead ? ' (this model\u2019s output head is the token embedding).' : '.'));
  document.getElementById('params').replaceChildren(summary,
      bars('Per component', [['token embedding', c.tokenEmbedding], ['position embedding', c.positionEmbedding],
        [`${cfg.nLayers} blocks`, c.transformerBlocks], ['final LayerNorm', c.finalNorm],
        ['output head', c.outputHead]], params.totalParameters),
      bars('One transformer block', [['attention', b.attention], ['feed forward', b.feedForward],
        ['2 LayerNorms', b.layerNorms]], b.total));
}

/** One line about the served model for the page's header. */
export function summary(params) {
  const cfg = params.config;
  return `${cfg.nLayers} layers \u00d7 ${cfg.nHeads} heads, embedding ${cfg.embDim}, context ${count(cfg.contextLength)}, `
      + `${count(params.totalParameters)} parameters.`;
}
