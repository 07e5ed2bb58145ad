// Reads a file's C2PA manifest store with the C2PA reference library (c2pa-rs compiled to
// WebAssembly, npm @contentauth/c2pa-wasm) and prints its report as JSON on stdout.
//   node tests/trust/c2pa_read.mjs FILE.mp4 [TRUST_ANCHORS.pem]
// Used by tests/trust/c2pa_validation.test.mjs and by hand.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { initSync, WasmReader } from '@contentauth/c2pa-wasm';

const require = createRequire(import.meta.url);

// verifyTrust (default: whether anchors are given) makes c2pa-rs check the signer against them.
export async function readC2pa(file, anchorsPem, verifyTrust = Boolean(anchorsPem)) {
  const wasm = readFileSync(require.resolve('@contentauth/c2pa-wasm/c2pa.wasm'));
  initSync({ module: wasm });
  const settings = { verify: { verify_trust: verifyTrust } };
  if (anchorsPem) settings.trust = { trust_anchors: readFileSync(anchorsPem, 'utf8') };
  const reader = await WasmReader.fromBytes('video/mp4', new Uint8Array(readFileSync(file)), JSON.stringify(settings));
  return JSON.parse(reader.json());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const report = await readC2pa(process.argv[2], process.argv[3]);
  console.log(JSON.stringify(report, null, 2));
}
