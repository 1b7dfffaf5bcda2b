// The inspector page: one prompt, inspected by POST /inspect, each panel drawn from the answer.
// /?prompt=... inspects that prompt as soon as the page opens.
import { getJson, postJson } from './api.js';
import * as attention from './attention.js';
import * as lens from './lens.js';
import * as next from './next.js';
import * as params from './params.js';
import * as stream from './stream.js';
import * as tokens from './tokens.js';

const TOP = 10;
const prompt = document.getElementById('prompt');
const status = document.getElementById('status');
const error = document.getElementById('error');

// the prompt as token ids once inspected, so that generated tokens stay exactly the ones the model chose
let promptTokens = null;
let latestNext = 0;

function busy(on) {
  document.body.dataset.busy = on;
  for (const id of ['inspect-button', 'generate-one', 'stream-button']) {
    document.getElementById(id).disabled = on;
  }
}

function fail(e) {
  error.textContent = e.message;
  error.hidden = false;
  status.textContent = '';
}

/** The prompt as the API takes it: the token ids inspected last, or the text as typed. */
function promptFields() {
  return promptTokens ? { promptTokens } : { prompt: prompt.value };
}

async function inspect() {
  busy(true);
  error.hidden = true;
  status.textContent = 'Inspecting\u2026';
  try {
    const answer = await postJson('/inspect', { ...promptFields(), top: TOP, ...next.sampler() });
    promptTokens = answer.tokens.map(t => t.id);
    tokens.render(answer);
    next.render(answer.next);
    attention.render(answer.attention, answer.tokens);
    lens.render(answer.logitLens, answer.tokens);
    status.textContent = `${answer.tokens.length} tokens inspected`;
    history.replaceState(null, '', `?prompt=${encodeURIComponent(prompt.value)}`);
  } catch (e) {
    fail(e);
  } finally {
    busy(false);
  }
}

/** The sliders moved: the next-token bars again, from the sampler's own probabilities. */
async function redrawNext() {
  if (!promptTokens) {
    return;
  }
  const mine = ++latestNext;
  try {
    const answer = await postJson('/inspect', {
      promptTokens, top: TOP, attention: false, logitLens: false, ...next.sampler(),
    });
    if (mine === latestNext) { // a later move's answer wins
      next.render(answer.next);
    }
  } catch (e) {
    fail(e);
  }
}

/** Samples one token as /generate does with the sliders' settings, appends it, and inspects again. */
async function generateOne() {
  busy(true);
  try {
    promptTokens ??= (await postJson('/tokenize', { text: prompt.value })).tokens;
    const answer = await postJson('/generate', { promptTokens, maxNewTokens: 1, ...next.sampler() });
    promptTokens = [...promptTokens, ...answer.generatedTokens];
    prompt.value = answer.text;
  } catch (e) {
    fail(e);
    busy(false);
    return;
  }
  await inspect();
}

async function streamGeneration() {
  busy(true);
  error.hidden = true;
  try {
    const maxNewTokens = Number(document.getElementById('max-new-tokens').value);
    await stream.run({ ...promptFields(), maxNewTokens, ...next.sampler() });
  } catch (e) {
    fail(e);
  } finally {
    busy(false);
  }
}

document.getElementById('prompt-form').addEventListener('submit', event => {
  event.preventDefault();
  inspect();
});
prompt.addEventListener('input', () => {
  promptTokens = null; // typed text is tokenized afresh
});
document.getElementById('generate-one').addEventListener('click', generateOne);
document.getElementById('stream-button').addEventListener('click', streamGeneration);
next.watch(redrawNext);

getJson('/model/params').then(p => {
  document.getElementById('model-summary').textContent = params.summary(p);
  params.render(p);
}).catch(fail);

const shared = new URLSearchParams(location.search).get('prompt');
if (shared !== null) {
  prompt.value = shared;
}
inspect();
