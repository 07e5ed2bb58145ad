// Client compatibility: the official `openai` npm package against a running frugal server.
// Run by tests/server/openai_client_test.cc, which starts the server on a free loopback port and
// sets FRUGAL_BASE_URL (".../v1"), FRUGAL_MODEL and optionally FRUGAL_API_KEY. Without
// FRUGAL_BASE_URL every test is skipped. Works with any model: checks shapes and consistency, not text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = process.env.FRUGAL_BASE_URL;
const model = process.env.FRUGAL_MODEL ?? 'default';
const skip = baseURL ? false : 'FRUGAL_BASE_URL is not set';
const client = baseURL
  ? new OpenAI({ baseURL, apiKey: process.env.FRUGAL_API_KEY ?? 'unused', timeout: 60_000, maxRetries: 0 })
  : null;

const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Name three colours.' },
];

function checkUsage(usage, maxCompletion) {
  assert.ok(usage, 'usage present');
  assert.ok(usage.prompt_tokens > 0);
  assert.ok(usage.completion_tokens >= 1 && usage.completion_tokens <= maxCompletion);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  assert.equal(typeof usage.prompt_tokens_details.cached_tokens, 'number');
}

test('models.list names the served model', { skip }, async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, [model]);
});

test('completions, non-streaming', { skip }, async () => {
  const res = await client.completions.create({ model, prompt: 'The colour of the sky is', max_tokens: 6, temperature: 0 });
  assert.equal(res.object, 'text_completion');
  assert.equal(res.choices.length, 1);
  assert.equal(typeof res.choices[0].text, 'string');
  assert.ok(['stop', 'length'].includes(res.choices[0].finish_reason));
  checkUsage(res.usage, 6);
});

test('completions, streaming equals non-streaming under greedy decoding', { skip }, async () => {
  const request = { model, prompt: 'Once upon a time', max_tokens: 8, temperature: 0 };
  const full = await client.completions.create(request);
  const stream = await client.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'text_completion');
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      text += choice.text;
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  assert.equal(text, full.choices[0].text);
  assert.equal(finish, full.choices[0].finish_reason);
  checkUsage(usage, 8);
  assert.equal(usage.completion_tokens, full.usage.completion_tokens);
});

test('chat, non-streaming with logprobs', { skip }, async () => {
  const res = await client.chat.completions.create({
    model, messages, max_completion_tokens: 5, temperature: 0, logprobs: true, top_logprobs: 2,
  });
  assert.equal(res.object, 'chat.completion');
  const choice = res.choices[0];
  assert.equal(choice.message.role, 'assistant');
  assert.equal(typeof choice.message.content, 'string');
  assert.ok(['stop', 'length'].includes(choice.finish_reason));
  checkUsage(res.usage, 5);
  assert.equal(choice.logprobs.content.length, res.usage.completion_tokens);
  for (const entry of choice.logprobs.content) {
    assert.ok(entry.logprob <= 0);
    assert.equal(entry.top_logprobs.length, 2);
    assert.ok(Array.isArray(entry.bytes));
  }
});

test('chat, streaming equals non-streaming under greedy decoding', { skip }, async () => {
  const request = { model, messages, max_tokens: 8, temperature: 0, seed: 7 };
  const full = await client.chat.completions.create(request);
  const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
  let content = '';
  let role = null;
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      if (choice.delta.role) role = choice.delta.role;
      if (choice.delta.content) content += choice.delta.content;
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  assert.equal(role, 'assistant');
  assert.equal(content, full.choices[0].message.content);
  assert.equal(finish, full.choices[0].finish_reason);
  checkUsage(usage, 8);
});

test('chat with n = 2 returns two indexed choices', { skip }, async () => {
  const res = await client.chat.completions.create({ model, messages, max_tokens: 3, n: 2, seed: 1 });
  assert.deepEqual(res.choices.map((c) => c.index), [0, 1]);
});

test('errors surface as typed API errors', { skip }, async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages, max_tokens: 2 }),
    (err) => err instanceof OpenAI.NotFoundError && err.status === 404,
  );
  await assert.rejects(
    client.completions.create({ model, prompt: 'x', max_tokens: -1 }),
    (err) => err instanceof OpenAI.BadRequestError && err.status === 400 && err.param === 'max_tokens',
  );
});

test('aborting a stream leaves the server healthy', { skip }, async () => {
  const stream = await client.chat.completions.create({ model, messages, max_tokens: 200, stream: true });
  let chunks = 0;
  for await (const chunk of stream) {
    assert.ok(chunk);
    if (++chunks === 2) break;  // closes the connection; the server cancels the request
  }
  const res = await client.chat.completions.create({ model, messages, max_tokens: 2 });
  assert.equal(res.choices.length, 1);
});
