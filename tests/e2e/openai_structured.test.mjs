// Structured outputs and tool calls through the official `openai` npm package: the
// chat.completions.parse helper with a plain json_schema response_format and with zod
// (zodResponseFormat, zodFunction), strict tools with parsed_arguments, the tool-call round trip
// (assistant tool_calls + role "tool" result), a streamed call, the runTools helper (plain and zod
// tools, streaming and not, a multi-turn loop), and field refusals.
// Run by tests/server/openai_client_test.cc against `frugal serve` on the bundled KJV model
// (FRUGAL_BASE_URL, FRUGAL_MODEL); skipped without FRUGAL_BASE_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';

const baseURL = process.env.FRUGAL_BASE_URL;
const model = process.env.FRUGAL_MODEL ?? 'default';
const skip = baseURL ? false : 'FRUGAL_BASE_URL is not set';
const client = baseURL
  ? new OpenAI({ baseURL, apiKey: process.env.FRUGAL_API_KEY ?? 'unused', timeout: 120_000, maxRetries: 0 })
  : null;

const verseSchema = {
  type: 'object',
  properties: {
    book: { type: 'string', enum: ['Genesis', 'Exodus', 'Psalms', 'John'] },
    chapter: { type: 'integer' },
    words: { type: 'array', items: { type: 'string', maxLength: 16 }, minItems: 1, maxItems: 3 },
    speaker: { type: ['string', 'null'], maxLength: 16 },
  },
  required: ['book', 'chapter', 'words', 'speaker'],
  additionalProperties: false,
};

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    strict: true,
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', maxLength: 24 }, unit: { type: 'string', enum: ['c', 'f'] } },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
  },
};

function checkVerse(v) {
  assert.ok(['Genesis', 'Exodus', 'Psalms', 'John'].includes(v.book));
  assert.ok(Number.isInteger(v.chapter));
  assert.ok(Array.isArray(v.words) && v.words.length >= 1 && v.words.length <= 3);
  for (const w of v.words) assert.ok(typeof w === 'string' && [...w].length <= 16);
  assert.ok(v.speaker === null || (typeof v.speaker === 'string' && [...v.speaker].length <= 16));
  assert.deepEqual(Object.keys(v).sort(), ['book', 'chapter', 'speaker', 'words']);
}

test('chat.completions.parse with a strict json_schema gives a parsed, valid object', { skip }, async () => {
  for (const seed of [1, 2, 3]) {
    const res = await client.chat.completions.parse({
      model,
      seed,
      max_tokens: 200,
      messages: [{ role: 'user', content: 'Which verse? Answer in JSON.' }],
      response_format: { type: 'json_schema', json_schema: { name: 'verse', strict: true, schema: verseSchema } },
    });
    const message = res.choices[0].message;
    assert.equal(res.choices[0].finish_reason, 'stop');
    assert.ok(message.parsed, `parsed from ${message.content}`);
    checkVerse(message.parsed);
  }
});

test('json_object mode gives a JSON object', { skip }, async () => {
  const res = await client.chat.completions.create({
    model, seed: 4, max_tokens: 100, messages: [{ role: 'user', content: 'JSON please' }],
    response_format: { type: 'json_object' },
  });
  const value = JSON.parse(res.choices[0].message.content);
  assert.equal(typeof value, 'object');
  assert.ok(value !== null && !Array.isArray(value));
});

test('tool calls: required choice, parsed arguments, then the tool result round trip', { skip }, async () => {
  const messages = [{ role: 'user', content: 'What is the weather in Jerusalem?' }];
  const res = await client.chat.completions.parse({
    model, seed: 5, max_tokens: 120, messages, tools: [weatherTool], tool_choice: 'required',
  });
  const choice = res.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.tool_calls.length, 1);
  const call = choice.message.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.match(call.id, /^call_/);
  assert.equal(call.function.name, 'get_weather');
  const args = call.function.parsed_arguments;
  assert.equal(typeof args.city, 'string');
  assert.ok(['c', 'f'].includes(args.unit));
  // The result goes back as a tool message; the model answers (text or another call).
  messages.push(choice.message);
  messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify({ temperature: 31 }) });
  const next = await client.chat.completions.create({ model, seed: 6, max_tokens: 20, messages, tools: [weatherTool] });
  assert.ok(['stop', 'length', 'tool_calls'].includes(next.choices[0].finish_reason));
});

test('a named tool choice streams delta.tool_calls chunks', { skip }, async () => {
  const stream = await client.chat.completions.create({
    model, seed: 7, max_tokens: 120, stream: true,
    messages: [{ role: 'user', content: 'Weather in Bethlehem, in celsius' }],
    tools: [weatherTool],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
  });
  let name = '';
  let args = '';
  let id = '';
  let finish = null;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    if (choice.finish_reason) finish = choice.finish_reason;
    for (const delta of choice.delta.tool_calls ?? []) {
      assert.equal(delta.index, 0);
      if (delta.id) id = delta.id;
      if (delta.function?.name) name += delta.function.name;
      if (delta.function?.arguments) args += delta.function.arguments;
    }
  }
  assert.equal(finish, 'tool_calls');
  assert.equal(name, 'get_weather');
  assert.match(id, /^call_/);
  const parsed = JSON.parse(args);
  assert.ok(['c', 'f'].includes(parsed.unit));
});

test('unsupported fields and schema keywords are 400s naming them', { skip }, async () => {
  await assert.rejects(
    client.completions.create({ model, prompt: 'a', best_of: 3, max_tokens: 2 }),
    (e) => e.status === 400 && e.param === 'best_of');
  await assert.rejects(
    client.chat.completions.create({
      model, messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_schema', json_schema: { name: 'z', schema: { type: 'string', format: 'email' } } },
    }),
    (e) => e.status === 400 && e.param === 'response_format.json_schema.schema' && /'format'/.test(e.message));
});

// zod: the schemas the helpers derive (with $schema, and .int()'s +-(2^53 - 1) bounds) are
// accepted, and every answer parses through the zod object itself.
const ZodVerse = z.object({
  book: z.enum(['Genesis', 'Exodus', 'Psalms', 'John']),
  chapter: z.number().int(),
  words: z.array(z.string().max(16)).min(1).max(3),
  speaker: z.string().max(16).nullable(),
  tags: z.array(z.object({ tribe: z.enum(['Judah', 'Levi']), count: z.number() })).max(2),
});
const ZodWeather = z.object({ city: z.string().max(24), unit: z.enum(['c', 'f']) });

test('chat.completions.parse with zodResponseFormat gives objects the zod schema accepts', { skip }, async () => {
  for (const seed of [11, 12, 13]) {
    const res = await client.chat.completions.parse({
      model, seed, max_tokens: 250,
      messages: [{ role: 'user', content: 'Which verse? Answer in JSON.' }],
      response_format: zodResponseFormat(ZodVerse, 'verse'),
    });
    const choice = res.choices[0];
    assert.equal(choice.finish_reason, 'stop', choice.message.content);
    assert.ok(choice.message.parsed, `parsed from ${choice.message.content}`);
    assert.deepEqual(choice.message.parsed, ZodVerse.parse(JSON.parse(choice.message.content)));
  }
});

test('runTools calls a zod tool with arguments its schema accepts (named choice, then done)', { skip }, async () => {
  const calls = [];
  const runner = client.chat.completions.runTools({
    model, seed: 21, max_tokens: 120,
    messages: [{ role: 'user', content: 'What is the weather in Jerusalem?' }],
    tools: [zodFunction({ name: 'get_weather', parameters: ZodWeather,
      function: (args) => { calls.push(args); return { temperature: 31 }; } })],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
  });
  await runner.done();
  assert.equal(calls.length, 1);
  ZodWeather.parse(calls[0]);
  const toolMessage = runner.messages.find((m) => m.role === 'tool');
  assert.equal(toolMessage.content, '{"temperature":31}');
  const call = await runner.finalFunctionToolCall();
  assert.equal(call.name, 'get_weather');
});

test('runTools loops: the tool result goes back and the model is asked again', { skip }, async () => {
  const cities = [];
  const runner = client.chat.completions.runTools({
    model, seed: 22, max_tokens: 120,
    messages: [{ role: 'user', content: 'Weather in Bethlehem and then in Nazareth?' }],
    tools: [{ type: 'function', function: {
      name: 'get_weather', description: 'The weather in a city', strict: true,
      parameters: weatherTool.function.parameters, parse: JSON.parse,
      function: (args) => { cities.push(args.city); return `${args.city}: 25 ${args.unit}`; } } }],
    tool_choice: 'required',
  }, { maxChatCompletions: 3 });
  await runner.done();
  const completions = runner.allChatCompletions();
  assert.equal(completions.length, 3, 'tool_choice required: every turn is a call');
  assert.equal(cities.length, 3);
  for (const c of completions) assert.equal(c.choices[0].finish_reason, 'tool_calls');
  // Each later request carried the earlier calls and their results.
  assert.equal(runner.messages.filter((m) => m.role === 'tool').length, 3);
  assert.equal(runner.messages.filter((m) => m.role === 'assistant' && m.tool_calls?.length).length, 3);
});

test('runTools with stream: true assembles the streamed call and runs the tool', { skip }, async () => {
  const calls = [];
  const runner = client.chat.completions.runTools({
    model, seed: 23, max_tokens: 120, stream: true,
    messages: [{ role: 'user', content: 'Weather in Bethlehem, in celsius' }],
    tools: [zodFunction({ name: 'get_weather', parameters: ZodWeather,
      function: (args) => { calls.push(args); return 'sunny'; } })],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
  });
  await runner.done();
  assert.equal(calls.length, 1);
  ZodWeather.parse(calls[0]);
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.match(final.choices[0].message.tool_calls[0].id, /^call_/);
});
