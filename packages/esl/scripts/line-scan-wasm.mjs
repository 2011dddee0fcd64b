#!/usr/bin/env node
// Compiles src/protocol/line-scan.wat with wabt and writes the bytes into src/protocol/line-scan.ts
// (the WASM_BASE64 constant). `--check` only tells whether the two agree (exit 1 if not).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const wat = fileURLToPath(new URL('../src/protocol/line-scan.wat', import.meta.url));
const ts = fileURLToPath(new URL('../src/protocol/line-scan.ts', import.meta.url));
const wabt = await wabtInit();
const module = wabt.parseWat('line-scan.wat', readFileSync(wat, 'utf8'), { simd: true });
module.validate();
const base64 = Buffer.from(module.toBinary({}).buffer).toString('base64');
module.destroy();

const source = readFileSync(ts, 'utf8');
const pattern = /(export const WASM_BASE64 =\n  ')([A-Za-z0-9+/=]*)(';)/;
const found = pattern.exec(source);
if (!found) throw new Error('WASM_BASE64 not found in line-scan.ts');
if (process.argv.includes('--check')) {
  if (found[2] !== base64) {
    console.error('line-scan.ts does not hold the bytes of line-scan.wat: run npm run wasm -w freeswitch-esl');
    process.exit(1);
  }
  console.log('line-scan.ts holds the bytes of line-scan.wat');
} else {
  writeFileSync(ts, source.replace(pattern, `$1${base64}$3`));
  console.log(`line-scan.ts: ${Buffer.from(base64, 'base64').length} bytes`);
}
