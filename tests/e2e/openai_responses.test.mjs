// The official `openai` npm client's Responses and Embeddings APIs against a running frugal server.
// Run by tests/server/openai_responses_client_test.cc, which starts `frugal serve` on a free loopback
// port and sets FRUGAL_BASE_URL (".../v1") and FRUGAL_MODEL. Without FRUGAL_BASE_URL every test is
// skipped. Checks shapes and consistency, not text (the model is random-weight).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = process.env.FRUGAL_BASE_URL;
const model = process.env.FRUGAL_MODEL ?? 'default';
const skip = baseURL ? false : 'FRUGAL_BASE_URL is not set';
const client = baseURL ? new OpenAI({ baseURL, apiKey: 'unused', timeout: 60_000, maxRetries: 0 }) : null;

test('responses.create, plain', { skip }, async () => {
  const res = await client.responses.create({
    model, input: 'Once upon a time', instructions: 'Be brief.', max_output_tokens: 6, temperature: 0,
  });
  assert.equal(res.object, 'response');
  assert.ok(['completed', 'incomplete'].includes(res.status));
  assert.equal(res.output.length, 1);
  assert.equal(res.output[0].type, 'message');
  assert.equal(res.output[0].role, 'assistant');
  assert.equal(res.output[0].content[0].type, 'output_text');
  assert.equal(typeof res.output_text, 'string');  // the client's own convenience field
  assert.equal(res.output_text, res.output[0].content[0].text);
  assert.ok(res.usage.input_tokens > 0);
  assert.ok(res.usage.output_tokens >= 1 && res.usage.output_tokens <= 6);
  assert.equal(res.usage.total_tokens, res.usage.input_tokens + res.usage.output_tokens);
});

test('responses.create, message input', { skip }, async () => {
  const res = await client.responses.create({
    model,
    input: [
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: [{ type: 'output_text', text: 'Hi.' }] },
      { role: 'user', content: [{ type: 'input_text', text: 'Tell me more.' }] },
    ],
    max_output_tokens: 4,
  });
  assert.ok(res.usage.input_tokens > 5);
  assert.ok(res.usage.output_tokens <= 4);
});

test('responses.create, streaming equals plain under greedy decoding', { skip }, async () => {
  const request = { model, input: 'The colour of the sky is', max_output_tokens: 8, temperature: 0 };
  const full = await client.responses.create(request);
  const stream = await client.responses.create({ ...request, stream: true });
  const types = [];
  let text = '';
  let final = null;
  let lastSequence = -1;
  for await (const event of stream) {
    types.push(event.type);
    assert.ok(event.sequence_number > lastSequence);
    lastSequence = event.sequence_number;
    if (event.type === 'response.output_text.delta') text += event.delta;
    if (event.type === 'response.completed' || event.type === 'response.incomplete') final = event.response;
  }
  assert.equal(types[0], 'response.created');
  assert.ok(types.includes('response.output_text.delta'));
  assert.ok(types.includes('response.output_text.done'));
  assert.ok(final, 'a closing response event');
  assert.equal(text, full.output_text);
  assert.equal(final.output[0].content[0].text, full.output_text);
  assert.equal(final.usage.output_tokens, full.usage.output_tokens);
});

test('responses.create rejects tools with a 400 the client raises', { skip }, async () => {
  await assert.rejects(
    client.responses.create({ model, input: 'x', tools: [{ type: 'function', name: 'f', parameters: {} }] }),
    (err) => err.status === 400 && err.param === 'tools',
  );
});

test('embeddings.create (the client asks for base64 and decodes it)', { skip }, async () => {
  const res = await client.embeddings.create({ model, input: ['Once upon a time', 'Something else entirely'] });
  assert.equal(res.object, 'list');
  assert.equal(res.data.length, 2);
  const [a, b] = res.data.map((d) => d.embedding);
  assert.ok(Array.isArray(a) && a.length > 0);
  const norm = Math.sqrt(a.reduce((s, v) => s + v * v, 0));
  assert.ok(Math.abs(norm - 1) < 1e-4, `unit norm, got ${norm}`);
  const floats = await client.embeddings.create({ model, input: 'Once upon a time', encoding_format: 'float' });
  const f = floats.data[0].embedding;
  assert.equal(f.length, a.length);
  for (let i = 0; i < f.length; i++) assert.ok(Math.abs(f[i] - a[i]) < 1e-6);
  assert.notDeepEqual(a, b);
  assert.ok(res.usage.prompt_tokens > 0);
});
