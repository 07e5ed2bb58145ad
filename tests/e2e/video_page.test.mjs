// The video page in a real headless Chromium, driven over the DevTools protocol (a pipe, no extra
// package): open FRUGAL_PAGE_URL (".../#autostart" submits the form on load), wait in real time —
// bounded — until the page shows the completed job with its cost and the <video> has fired its
// first `playing` event, check the frames are decoded (videoWidth, currentTime advancing), then
// save a screenshot to FRUGAL_PAGE_SCREENSHOT. With FRUGAL_PLAY_FILE, a second test opens that MP4
// (e.g. the bytes the official openai client downloaded) straight from disk in Chromium's own media
// viewer and checks it decodes and plays. Run by tests/server/video_api_test.cc; without
// FRUGAL_PAGE_URL / FRUGAL_PLAY_FILE the corresponding test is skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const pageUrl = process.env.FRUGAL_PAGE_URL;
const screenshot = process.env.FRUGAL_PAGE_SCREENSHOT ?? join(tmpdir(), 'frugal_video_page.png');
const skip = pageUrl ? false : 'FRUGAL_PAGE_URL is not set';
const playFile = process.env.FRUGAL_PLAY_FILE;

// A DevTools client over --remote-debugging-pipe: requests on fd 3, replies on fd 4, each message
// one JSON object terminated by a NUL byte.
class DevTools {
  constructor(child) {
    this.nextId = 1;
    this.pending = new Map();
    this.buffer = Buffer.alloc(0);
    this.input = child.stdio[3];
    child.stdio[4].on('data', (chunk) => this.receive(chunk));
    child.on('exit', (code) => {
      for (const { reject } of this.pending.values()) reject(new Error(`chromium exited (${code})`));
      this.pending.clear();
    });
  }

  receive(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (let end = this.buffer.indexOf(0); end >= 0; end = this.buffer.indexOf(0)) {
      const message = JSON.parse(this.buffer.subarray(0, end).toString('utf8'));
      this.buffer = this.buffer.subarray(end + 1);
      const waiter = message.id !== undefined ? this.pending.get(message.id) : undefined;
      if (!waiter) continue;  // an event: not needed, the page state is polled
      this.pending.delete(message.id);
      if (message.error) waiter.reject(new Error(JSON.stringify(message.error)));
      else waiter.resolve(message.result);
    }
  }

  send(method, params = {}, sessionId = undefined) {
    const id = this.nextId++;
    const message = { id, method, params };
    if (sessionId) message.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.input.write(JSON.stringify(message) + '\0');
    });
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Runs `body(devtools, sessionId)` on a fresh headless Chromium tab; Chromium is gone afterwards.
async function withChromium(body) {
  const profile = await mkdtemp(join(tmpdir(), 'frugal-chromium-'));
  const chromium = spawn('chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required', '--remote-debugging-pipe',
    `--user-data-dir=${profile}`, '--window-size=800,700', 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
  try {
    const devtools = new DevTools(chromium);
    const { targetId } = await devtools.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await devtools.send('Target.attachToTarget', { targetId, flatten: true });
    await body(devtools, sessionId);
  } finally {
    if (chromium.exitCode === null && chromium.signalCode === null) {
      const exited = new Promise((resolve) => chromium.once('exit', resolve));
      chromium.kill('SIGKILL');
      await exited;  // Chromium must be gone before its profile is removed
    }
    await rm(profile, { recursive: true, force: true });
  }
}

test('the page makes a video, shows its cost and plays it', { skip, timeout: 180_000 }, async () => {
  await withChromium(async (devtools, sessionId) => {
    await devtools.send('Page.navigate', { url: pageUrl }, sessionId);
      const read = async () => {
        const { result } = await devtools.send('Runtime.evaluate', {
          returnByValue: true,
          expression: `(() => { const v = document.getElementById('player'); const s = document.getElementById('status');
            return v && s ? { status: s.textContent, error: s.className === 'error', played: v.dataset.played === 'true',
                              width: v.videoWidth, time: v.currentTime } : null; })()`,
        }, sessionId);
        return result.value;
      };
      let state = null;
      for (let attempt = 0; attempt < 1200; attempt++) {  // at most 120 s of real time
        state = await read();
        if (state && (state.played || state.error)) break;
        await sleep(100);
      }
      assert.ok(state, 'the page has a status line and a player');
      assert.equal(state.error, false, state.status);
      assert.equal(state.played, true, `the video never started playing; status: ${state.status}`);
      assert.match(state.status, /Status: completed/);
      assert.match(state.status, /cost \$\d+\.\d{6}/);
      assert.ok(state.width > 0, 'the decoded video has a width');
      const started = state.time;
      for (let attempt = 0; attempt < 100 && state.time === started; attempt++) {
        await sleep(100);
        state = await read();
      }
      assert.notEqual(state.time, started, 'playback advances');
      const { data } = await devtools.send('Page.captureScreenshot', { format: 'png' }, sessionId);
      await writeFile(screenshot, Buffer.from(data, 'base64'));
  });
});

test('a downloaded MP4 plays in Chromium', { skip: playFile ? false : 'FRUGAL_PLAY_FILE is not set', timeout: 60_000 }, async () => {
  await withChromium(async (devtools, sessionId) => {
    await devtools.send('Page.navigate', { url: pathToFileURL(playFile).href }, sessionId);
    const read = async () => {
      const { result } = await devtools.send('Runtime.evaluate', {
        returnByValue: true,
        expression: `(() => { const v = document.querySelector('video'); if (!v) return null;
          if (v.paused && !v.ended && v.readyState >= 2) v.play().catch(() => {});
          return { ready: v.readyState, width: v.videoWidth, height: v.videoHeight, time: v.currentTime,
                   ended: v.ended, error: v.error ? v.error.code : 0 }; })()`,
      }, sessionId);
      return result.value;
    };
    let state = null;
    for (let attempt = 0; attempt < 300; attempt++) {  // at most 30 s of real time
      state = await read();
      if (state && (state.error || state.time > 0 || state.ended)) break;
      await sleep(100);
    }
    assert.ok(state, 'Chromium opened the file in a <video> element');
    assert.equal(state.error, 0, `media error ${state.error}`);
    assert.ok(state.width > 0 && state.height > 0, `decoded frames: ${JSON.stringify(state)}`);
    assert.ok(state.time > 0 || state.ended, `playback advances: ${JSON.stringify(state)}`);
  });
});
