// Next token: the top tokens as bars of the sampler's probability (sampledProb), with softmax at temperature 1
// marked beside; the sliders set the sampler's temperature, top-k and top-p, as /generate takes them.
import { element, percent, tokenText } from './format.js';

const temperature = () => document.getElementById('temperature');
const topK = () => document.getElementById('top-k');
const topP = () => document.getElementById('top-p');

/** The sampler settings of the sliders, as /inspect and /generate take them (a filter that is off is left out). */
export function sampler() {
  const settings = { temperature: Number(temperature().value) };
  if (Number(topK().value) > 0) {
    settings.topK = Number(topK().value);
  }
  if (Number(topP().value) < 1) {
    settings.topP = Number(topP().value);
  }
  return settings;
}

/** Shows each slider's value, and calls onChange after the sliders have been still for a moment. */
export function watch(onChange) {
  let timer;
  const show = () => {
    const t = Number(temperature().value);
    document.getElementById('temperature-value').textContent = t === 0 ? '0 (greedy)' : t.toFixed(2);
    document.getElementById('top-k-value').textContent = Number(topK().value) > 0 ? topK().value : 'off';
    document.getElementById('top-p-value').textContent = Number(topP().value) < 1 ? Number(topP().value).toFixed(2) : 'off';
  };
  for (const slider of [temperature(), topK(), topP()]) {
    slider.addEventListener('input', () => {
      show();
      clearTimeout(timer);
      timer = setTimeout(onChange, 150);
    });
  }
  show();
}

export function render(next) {
  const chart = document.getElementById('next-chart');
  chart.replaceChildren();
  const scale = Math.max(1e-12, ...next.top.map(t => Math.max(t.sampledProb, t.prob)));
  for (const t of next.top) {
    const row = element('li', 'bar-row');
    row.dataset.token = t.token;
    row.dataset.sampledProb = t.sampledProb;
    const label = element('span', 'bar-label', tokenText(t.text));
    label.title = `id ${t.token}, logit ${t.logit.toFixed(3)}`;
    const track = element('span', 'bar-track');
    const bar = element('span', 'bar');
    bar.style.width = `${(100 * t.sampledProb / scale).toFixed(2)}%`;
    const marker = element('span', 'bar-marker');
    marker.style.left = `${(100 * t.prob / scale).toFixed(2)}%`;
    marker.title = `softmax at temperature 1: ${percent(t.prob)}`;
    track.append(bar, marker);
    const sampled = element('span', 'sampled', percent(t.sampledProb));
    const plain = element('span', 'prob muted', `T=1: ${percent(t.prob)}`);
    row.setAttribute('aria-label', `${t.text}: sampled ${percent(t.sampledProb)}, at temperature 1 ${percent(t.prob)}`);
    row.append(label, track, sampled, plain);
    chart.append(row);
  }
}
