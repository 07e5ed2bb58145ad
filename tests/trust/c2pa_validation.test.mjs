// The C2PA reference library (c2pa-rs as @contentauth/c2pa-wasm) validates an MP4 that frugal signed.
// Run by test_trust's ReferenceValidator tests (tests/trust/c2pa_test.cc), which make the file:
//   FRUGAL_C2PA_MP4    the signed MP4
//   FRUGAL_C2PA_CA     frugal's CA certificate (PEM), the trust anchor
//   FRUGAL_C2PA_MODEL  the model name the manifest must name
//   FRUGAL_C2PA_WATERMARK_ALG / FRUGAL_C2PA_WATERMARK_HEX  the soft binding it must carry
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readC2pa } from './c2pa_read.mjs';

const mp4 = process.env.FRUGAL_C2PA_MP4;
const ca = process.env.FRUGAL_C2PA_CA;
const model = process.env.FRUGAL_C2PA_MODEL;
const watermarkAlg = process.env.FRUGAL_C2PA_WATERMARK_ALG;
const watermarkHex = process.env.FRUGAL_C2PA_WATERMARK_HEX;

const codes = (results, kind) => (results?.activeManifest?.[kind] ?? []).map((s) => s.code);

test('the manifest carries the actions, the soft binding and the BMFF hard binding, and is Trusted', async () => {
  const report = await readC2pa(mp4, ca);
  const manifest = report.manifests[report.active_manifest];
  assert.ok(manifest, 'an active manifest');
  assert.equal(manifest.claim_version, 2);
  assert.deepEqual(codes(report.validation_results, 'failure'), [], JSON.stringify(report.validation_results));
  assert.equal(report.validation_state, 'Trusted');
  const success = codes(report.validation_results, 'success');
  for (const code of ['signingCredential.trusted', 'claimSignature.validated', 'assertion.bmffHash.match']) {
    assert.ok(success.includes(code), `${code} in ${success}`);
  }
  assert.equal(manifest.signature_info.alg, 'Es256');

  const byLabel = Object.fromEntries(manifest.assertions.map((a) => [a.label, a.data]));
  const actions = byLabel['c2pa.actions.v2'].actions;
  const created = actions.find((a) => a.action === 'c2pa.created');
  assert.ok(created, 'a c2pa.created action');
  assert.equal(created.digitalSourceType, 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia');
  assert.equal(created.softwareAgent.name, 'frugal');
  assert.equal(created.softwareAgent.model, model);
  assert.ok(byLabel['c2pa.hash.bmff.v3'], 'a c2pa.hash.bmff.v3 hard binding');
  if (watermarkAlg) {
    assert.ok(actions.some((a) => a.action === 'c2pa.watermarked'), 'a c2pa.watermarked action');
    const binding = byLabel['c2pa.soft-binding'];
    assert.equal(binding.alg, watermarkAlg);
    assert.equal(Buffer.from(binding.blocks[0].value, 'base64').toString('hex'), watermarkHex);
  }
});

test('checked against no trust anchor (not frugal\'s CA) the signer is untrusted', async () => {
  const report = await readC2pa(mp4, undefined, true);
  assert.notEqual(report.validation_state, 'Trusted');
  assert.ok(codes(report.validation_results, 'failure').includes('signingCredential.untrusted'),
    JSON.stringify(report.validation_results));
});

// The first top-level box of `type`: [offset, size].
function topBox(bytes, type) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let pos = 0; pos + 8 <= bytes.length;) {
    let size = view.getUint32(pos);
    if (size === 1) size = Number(view.getBigUint64(pos + 8));
    if (size === 0) size = bytes.length - pos;
    if (String.fromCharCode(...bytes.subarray(pos + 4, pos + 8)) === type) return [pos, size];
    pos += size;
  }
  throw new Error(`no ${type} box`);
}

test('one flipped byte inside mdat is assertion.bmffHash.mismatch', async () => {
  const bytes = new Uint8Array(readFileSync(mp4));
  const [offset, size] = topBox(bytes, 'mdat');
  bytes[offset + Math.floor(size / 2)] ^= 0x01;
  const tampered = join(mkdtempSync(join(tmpdir(), 'frugal-c2pa-')), 'tampered.mp4');
  writeFileSync(tampered, bytes);
  const report = await readC2pa(tampered, ca);
  const failure = codes(report.validation_results, 'failure');
  assert.ok(failure.includes('assertion.bmffHash.mismatch'), JSON.stringify(report.validation_results));
  assert.notEqual(report.validation_state, 'Trusted');
});
