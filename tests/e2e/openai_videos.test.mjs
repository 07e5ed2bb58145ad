// Client compatibility for the Videos API: the official `openai` npm package runs
// create → poll retrieve → downloadContent → list → remix → delete against `frugal serve
// --video-model` (a wan-tiny model). Run by tests/server/video_api_test.cc, which sets
// FRUGAL_VIDEO_BASE_URL (".../v1"), FRUGAL_VIDEO_MODEL and FRUGAL_VIDEO_OUT (where the downloaded
// MP4 is written for ffprobe). Without FRUGAL_VIDEO_BASE_URL every test is skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import OpenAI from 'openai';

const baseURL = process.env.FRUGAL_VIDEO_BASE_URL;
const model = process.env.FRUGAL_VIDEO_MODEL ?? 'wan-tiny';
const out = process.env.FRUGAL_VIDEO_OUT ?? '/tmp/frugal_openai_video.mp4';
const skip = baseURL ? false : 'FRUGAL_VIDEO_BASE_URL is not set';
const client = baseURL ? new OpenAI({ baseURL, apiKey: 'unused', timeout: 60_000, maxRetries: 0 }) : null;

async function pollUntilDone(id) {
  for (let attempt = 0; attempt < 600; attempt++) {
    const video = await client.videos.retrieve(id);
    assert.ok(['queued', 'in_progress', 'completed', 'failed'].includes(video.status), video.status);
    assert.ok(video.progress >= 0 && video.progress <= 100);
    if (video.status === 'completed' || video.status === 'failed') return video;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`video ${id} did not finish in 60 s`);
}

test('create, poll, download, list, remix and delete a video', { skip }, async () => {
  const created = await client.videos.create({ model, prompt: 'a red fox running through snow', seconds: '0.5', size: '64x64' });
  assert.equal(created.object, 'video');
  assert.match(created.id, /^video_[0-9a-f]{32}$/);
  assert.ok(['queued', 'in_progress'].includes(created.status));
  assert.equal(created.model, model);
  assert.equal(created.seconds, '0.5');
  assert.equal(created.size, '64x64');
  assert.equal(created.prompt, 'a red fox running through snow');
  assert.equal(typeof created.created_at, 'number');
  assert.equal(created.error, null);
  assert.equal(created.tier, 'draft');

  const done = await pollUntilDone(created.id);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  assert.equal(done.progress, 100);
  assert.ok(done.completed_at >= done.created_at);
  assert.ok(done.expires_at > done.completed_at);
  assert.equal(done.frames, 9);
  assert.ok(done.compute_seconds > 0);
  assert.ok(done.cost_usd > 0, 'the server has a price: every video has a cost');
  assert.ok(done.timings.denoise_seconds > 0 && done.timings.total_seconds > 0);

  const response = await client.videos.downloadContent(created.id);
  assert.equal(response.headers.get('content-type'), 'video/mp4');
  const bytes = Buffer.from(await response.arrayBuffer());
  assert.equal(bytes.subarray(4, 8).toString('latin1'), 'ftyp', 'an MP4 file');
  await writeFile(out, bytes);
  const thumbnail = await client.videos.downloadContent(created.id, { variant: 'thumbnail' });
  assert.equal(thumbnail.headers.get('content-type'), 'image/png');
  const png = Buffer.from(await thumbnail.arrayBuffer());
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');

  const ids = [];
  for await (const video of client.videos.list({ limit: 1 })) ids.push(video.id);
  assert.ok(ids.includes(created.id), 'the auto-paginating list reaches the video');

  const remix = await client.videos.remix(created.id, { prompt: 'a blue fox' });
  assert.equal(remix.remixed_from_video_id, created.id);
  assert.equal(remix.size, '64x64');
  assert.equal(remix.seconds, '0.5');
  assert.equal((await pollUntilDone(remix.id)).status, 'completed');

  for (const id of [remix.id, created.id]) {
    const deleted = await client.videos.delete(id);
    assert.deepEqual(deleted, { id, object: 'video.deleted', deleted: true });
  }
  await assert.rejects(client.videos.retrieve(created.id), (error) => error.status === 404);
  await assert.rejects(client.videos.delete(created.id), (error) => error.status === 404);
});

test('an impossible size is a 400 that says what the model can make', { skip }, async () => {
  await assert.rejects(client.videos.create({ model, prompt: 'x', size: '1792x1024' }), (error) => {
    assert.equal(error.status, 400);
    assert.equal(error.param, 'size');
    assert.match(error.message, /multiples of 16/);
    return true;
  });
});

test('an unknown model is a 404 model_not_found', { skip }, async () => {
  await assert.rejects(client.videos.create({ model: 'sora-2', prompt: 'x' }), (error) => {
    assert.equal(error.status, 404);
    assert.equal(error.code, 'model_not_found');
    return true;
  });
});
