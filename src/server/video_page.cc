#include "server/video_page.h"

namespace frugal {
namespace {

constexpr const char* kPageHead = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>frugal video</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;max-width:720px;margin:2em auto;padding:0 1em;color:#222}
textarea{width:100%;height:5em;font:inherit}
select,button,input{font:inherit;padding:.3em .6em}
#status{margin:1em 0;font-variant-numeric:tabular-nums}
progress{width:100%}
video{width:100%;max-width:512px;background:#000;margin-top:1em;image-rendering:pixelated}  /* small clips scaled up, pixels kept sharp */
.error{color:#b00020}
</style></head><body>
<h1>frugal video</h1>
<form id="form">
<label for="prompt">Prompt</label>
<textarea id="prompt" required>a red circle moving right on a black background</textarea>
<p><label>Tier <select id="tier">)html";

constexpr const char* kPageTail = R"html(</select></label>
<label>API key <input id="key" type="password" placeholder="(if the server has keys)"></label>
<button id="go" type="submit">Generate</button></p>
</form>
<div id="status"></div>
<progress id="bar" max="100" value="0" hidden></progress>
<video id="player" controls autoplay muted loop playsinline hidden></video>
<script>
const $ = (id) => document.getElementById(id);
function headers() {
  const key = $('key').value.trim();
  return key ? { Authorization: 'Bearer ' + key } : {};
}
function show(video) {
  const parts = ['Status: ' + video.status, 'progress ' + video.progress + '%'];
  if (video.status === 'queued') parts.push('queue position ' + video.queue_position);
  if (video.eta_seconds !== null && video.status !== 'completed') parts.push('ETA ' + Math.ceil(video.eta_seconds) + ' s');
  if (video.status === 'completed') parts.push('cost $' + video.cost_usd.toFixed(6), video.compute_seconds.toFixed(1) + ' core-s');
  if (video.predicted_cost_usd !== null && video.status !== 'completed') parts.push('predicted $' + video.predicted_cost_usd.toFixed(6));
  $('status').textContent = parts.join(' · ');
  $('status').className = '';
  $('bar').hidden = false;
  $('bar').value = video.progress;
}
async function fail(response) {
  const body = await response.json().catch(() => ({}));
  $('status').textContent = (body.error && body.error.message) || ('HTTP ' + response.status);
  $('status').className = 'error';
  $('go').disabled = false;
}
async function play(id) {
  const response = await fetch('/v1/videos/' + id + '/content', { headers: headers() });
  if (!response.ok) return fail(response);
  const player = $('player');
  player.src = URL.createObjectURL(await response.blob());
  player.hidden = false;
  player.dataset.videoId = id;
  player.addEventListener('playing', () => { player.dataset.played = 'true'; }, { once: true });
  $('go').disabled = false;
}
async function poll(id) {
  const response = await fetch('/v1/videos/' + id, { headers: headers() });
  if (!response.ok) return fail(response);
  const video = await response.json();
  show(video);
  if (video.status === 'completed') return play(id);
  if (video.status === 'failed') {
    $('status').textContent = 'Failed: ' + (video.error ? video.error.message : 'unknown error');
    $('status').className = 'error';
    $('go').disabled = false;
    return;
  }
  setTimeout(() => poll(id), 500);
}
$('form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('go').disabled = true;
  $('player').hidden = true;
  const form = new FormData();
  form.append('prompt', $('prompt').value);
  form.append('tier', $('tier').value);
  const response = await fetch('/v1/videos', { method: 'POST', body: form, headers: headers() });
  if (!response.ok) return fail(response);
  const video = await response.json();
  show(video);
  poll(video.id);
});
if (location.hash === '#autostart') $('form').requestSubmit();
// #video=<id> watches an existing job (a link to share, or a page reloaded while the job runs).
const watched = location.hash.match(/^#video=([A-Za-z0-9_-]+)$/);
if (watched) poll(watched[1]);
</script></body></html>
)html";

std::string escape_html(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::string video_page_html(const std::vector<std::string>& tiers) {
  std::string html = kPageHead;
  for (const std::string& tier : tiers) {
    html += "<option value=\"" + escape_html(tier) + "\">" + escape_html(tier) + "</option>";
  }
  return html + kPageTail;
}

}  // namespace frugal
