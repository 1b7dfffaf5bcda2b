// Generate: the prompt continued through /generate/stream, token by token, with the time to the first token and the
// rate of the tokens after it.
import { events } from './api.js';
import { element } from './format.js';

export async function run(request) {
  const text = document.getElementById('stream-text');
  const stats = document.getElementById('stream-stats');
  text.replaceChildren();
  stats.textContent = 'Waiting for the first token\u2026';
  const start = performance.now();
  let first = null;
  let last = null;
  let count = 0;
  for await (const { event, data } of events('/generate/stream', request)) {
    if (event === 'token') {
      last = performance.now();
      first ??= last;
      count++;
      text.append(element('span', 'streamed', data.text));
      const rate = count > 1 ? `, ${((count - 1) / ((last - first) / 1000)).toFixed(1)} tokens/s after it` : '';
      stats.textContent = `${count} tokens; first after ${(first - start).toFixed(0)} ms${rate}`;
    } else if (event === 'done') {
      stats.textContent += ` \u2014 finished (${data.finishReason})`;
    } else if (event === 'error') {
      stats.textContent += ` \u2014 ended early: ${data.detail}`;
    }
  }
}
