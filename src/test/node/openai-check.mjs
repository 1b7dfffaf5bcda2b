// Drives ScratchGPT's OpenAI-compatible endpoints with the official OpenAI client, unchanged.
// Usage: node openai-check.mjs http://localhost:PORT   (the default seed-123 model must be served)
//        node openai-check.mjs http://localhost:PORT deadline   (a server whose gpt.generation.timeout is a few
//        seconds: only the check that a stream ending at its deadline raises the server's error)
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const base = process.argv[2];
const only = process.argv[3];
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-needed', maxRetries: 0, timeout: 120_000 });
const BOOK = ' Featureiman Byeswickattribute argue';
let passed = 0, failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e && e.stack || e}`);
  }
}

if (only === 'deadline') {
  await check('a stream past its deadline raises the server error after the text so far', async () => {
    const stream = await client.completions.create({
      model: 'gpt2-small', prompt: 'Hello, I am', max_tokens: 1000, temperature: 0, stream: true,
    });
    let chunks = 0;
    await assert.rejects(
      (async () => { for await (const chunk of stream) chunks += chunk.choices.length; })(),
      (e) => e instanceof OpenAI.APIError && /deadline/.test(e.message) && e.error.type === 'server_error',
    );
    assert.ok(chunks > 0, 'text came before the error');
  });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

await check('models.list names the served model', async () => {
  const models = await client.models.list();
  assert.equal(models.data.length, 1);
  assert.equal(models.data[0].id, 'gpt2-small');
});

await check('completions.create greedy continues the book prompt', async () => {
  const c = await client.completions.create({ model: 'gpt2-small', prompt: 'Hello, I am', max_tokens: 6, temperature: 0 });
  assert.equal(c.object, 'text_completion');
  assert.equal(c.choices[0].text, BOOK);
  assert.equal(c.choices[0].finish_reason, 'length');
  assert.deepEqual(c.usage, { prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 });
});

await check('token-array prompts, several prompts, echo and stop', async () => {
  const c = await client.completions.create({
    model: 'gpt2-small', prompt: [[15496, 11, 314, 716], 'Hello, I am'], max_tokens: 6, temperature: 0,
    echo: true, stop: ['attribute'],
  });
  assert.equal(c.choices.length, 2);
  for (const choice of c.choices) {
    assert.equal(choice.text, 'Hello, I am Featureiman Byeswick');
    assert.equal(choice.finish_reason, 'stop');
  }
});

await check('n with a seed gives reproducible samples', async () => {
  const req = { model: 'gpt2-small', prompt: 'Hello, I am', max_tokens: 5, temperature: 1, seed: 7, n: 2 };
  const a = await client.completions.create(req);
  const b = await client.completions.create(req);
  assert.equal(a.choices.length, 2);
  assert.deepEqual(a.choices.map((c) => c.text), b.choices.map((c) => c.text));
});

await check('logprobs come back in the completions shape', async () => {
  const c = await client.completions.create({ model: 'gpt2-small', prompt: 'Hello, I am', max_tokens: 2, temperature: 0, logprobs: 2 });
  const lp = c.choices[0].logprobs;
  assert.deepEqual(lp.tokens, [' Feature', 'iman']);
  assert.ok(Math.abs(lp.token_logprobs[0] - -8.49025020721916) < 1e-3);
  assert.equal(Object.keys(lp.top_logprobs[0]).length, 2);
  assert.deepEqual(lp.text_offset, [0, 8]);
});

await check('echo with logprobs and max_tokens 0 scores the prompt, the first token null', async () => {
  const c = await client.completions.create({
    model: 'gpt2-small', prompt: 'Hello, I am', max_tokens: 0, temperature: 0, logprobs: 1, echo: true,
  });
  const choice = c.choices[0];
  assert.equal(choice.text, 'Hello, I am');
  assert.equal(choice.finish_reason, 'length');
  assert.deepEqual(choice.logprobs.tokens, ['Hello', ',', ' I', ' am']);
  assert.equal(choice.logprobs.token_logprobs[0], null);
  assert.equal(choice.logprobs.top_logprobs[0], null);
  assert.ok(choice.logprobs.token_logprobs.slice(1).every((lp) => lp < 0));
  assert.deepEqual(choice.logprobs.text_offset, [0, 5, 6, 8]);
});

await check('streaming yields the same text and ends cleanly', async () => {
  const stream = await client.completions.create({
    model: 'gpt2-small', prompt: 'Hello, I am', max_tokens: 6, temperature: 0, stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    for (const choice of chunk.choices) {
      text += choice.text;
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, BOOK);
  assert.equal(finish, 'length');
  assert.equal(usage.completion_tokens, 6);
});

await check('bad input is a 400 whose message names the field', async () => {
  await assert.rejects(
    client.completions.create({ model: 'gpt2-small', prompt: 'Hi', max_tokens: 100000 }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && /max_tokens/.test(e.message),
  );
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
