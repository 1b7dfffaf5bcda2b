// Tokens and loss: the prompt's tokens as chips with their ids, shaded by each one's loss, and the perplexity.
import { element, ink, shade, tokenText } from './format.js';

// the loss of a uniform guess over GPT-2's vocabulary, ln(50257): the darkest shade, as surprised as knowing nothing
const UNIFORM_LOSS = Math.log(50257);

export function render(inspection) {
  const list = document.getElementById('tokens');
  list.replaceChildren();
  const perToken = inspection.loss.perToken;
  inspection.tokens.forEach((token, i) => {
    // token i's loss is perToken[i - 1]: the first token has nothing before it to be predicted from
    const loss = i === 0 ? null : perToken[i - 1];
    const chip = element('li', 'chip');
    chip.dataset.id = token.id;
    chip.append(element('span', 'chip-text', tokenText(token.text)), element('span', 'chip-id', `#${token.id}`));
    if (loss !== null) {
      chip.style.background = shade(loss / UNIFORM_LOSS);
      chip.style.color = ink(loss / UNIFORM_LOSS);
      chip.append(element('span', 'chip-loss', loss.toFixed(2)));
    }
    chip.title = loss === null ? `id ${token.id}; the first token has no loss`
        : `id ${token.id}; loss ${loss.toFixed(3)} (probability ${Math.exp(-loss).toExponential(2)})`;
    list.append(chip);
  });
  const summary = document.getElementById('loss-summary');
  summary.textContent = inspection.loss.mean === null
      ? 'One token: nothing to predict, so no loss.'
      : `Mean loss ${inspection.loss.mean.toFixed(4)} over ${perToken.length} predicted tokens; perplexity `
        + `${inspection.loss.perplexity.toFixed(1)} (a uniform guess over the 50,257 tokens would be 50,257).`;
}
