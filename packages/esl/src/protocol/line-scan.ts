/**
 * Finding a header line in a plain event with a small WebAssembly scanner (source:
 * line-scan.wat). One pass, sixteen bytes at a time, finds both the line that starts with
 * `<name>:` and any blank line before it (the end of the headers, after which a look-alike line
 * belongs to the event's body). Done with Buffer methods, that is two native searches, each paying
 * the cost of a call into C++ on top of the search; a WebAssembly call costs far less, and copying
 * the first KiB of the event into its memory costs about as much as one of those calls.
 *
 * When WebAssembly is not available (node --jitless, or no SIMD), `scanHeaders` answers
 * UNAVAILABLE and EslEvent uses the Buffer searches.
 */

/** Bytes of line-scan.wat as compiled by wabt (npm run wasm -w freeswitch-esl rewrites this line). */
export const WASM_BASE64 =
  'AGFzbQEAAAABCQFgBH9/f38BfwMCAQAFAwEAAQcRAgZtZW1vcnkCAARzY2FuAAAKyQEBxgECBH8Be0EK/Q8hCCAAIQQCQANAIAQgAU8NASAE/QAEACAI/SP9ZCEFAkADQCAFRQ0BIAQgBWhqIQYgBSAFQQFrcSEFIAYgAU8NAyAGQQFqIAFPBEBBfw8LIAZBAWotAABBCkYEQEF+IAZBAWprDwsgBkEBaiADaiABTQRAQQAhBwJAA0AgByADTwRAIAZBAWoPCyAGQQFqIAdqLQAAIAIgB2otAABHDQEgB0EBaiEHDAALCwsMAAsLIARBEGohBAwACwtBfws=';

type ScanFn = (start: number, end: number, needle: number, nlen: number) => number;

/** Memory layout: the needle in [0, NEEDLE_ROOM), the event's text after it, 16 bytes kept free at the end. */
const NEEDLE_ROOM = 256;
const PAGE = 64 * 1024;
/** Events longer than this are left to the Buffer searches (rare: a long api output in BACKGROUND_JOB). */
export const MAX_SCAN_BYTES = PAGE - NEEDLE_ROOM - 16;
/** Copied first; the rest of the event only when the answer lies beyond it. */
const FIRST_WINDOW = 1024;

let memory: Uint8Array | undefined;
let scan: ScanFn | undefined;
let enabled = true;

/** The part of the WebAssembly global used here (the ES2022 lib has no WebAssembly types). */
interface WasmGlobal {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { memory: { buffer: ArrayBuffer }; scan: ScanFn } };
}

try {
  const wasm = (globalThis as unknown as { WebAssembly?: WasmGlobal }).WebAssembly;
  if (wasm !== undefined) {
    const instance = new wasm.Instance(new wasm.Module(Buffer.from(WASM_BASE64, 'base64')));
    memory = new Uint8Array(instance.exports.memory.buffer);
    scan = instance.exports.scan;
  }
} catch {
  // No WebAssembly (--jitless) or no SIMD: the Buffer searches stay.
}

/** Which event's bytes [0, copied) are in memory (a number, so no event is kept alive by it). */
let owner = 0;
let copied = 0;
let lastId = 0;
/** The needle now in memory. */
let needleInMemory: Uint8Array | undefined;

/** A fresh id for `scanHeaders`' `holder`. */
export function scanId(): number {
  return ++lastId;
}

export const UNAVAILABLE = -3;
export const NOT_IN_HEADERS = -1;

export interface ScanResult {
  /** Offset of the line that starts with the needle, NOT_IN_HEADERS, or UNAVAILABLE. */
  line: number;
  /** Offset of the blank line that ends the headers when the scan met it, else -1. */
  blank: number;
}

const result: ScanResult = { line: 0, blank: -1 };

/**
 * The first line of `raw` after an LF that starts with `needle`, unless a blank line comes first;
 * only bytes before `end` count. The first line of the event (no LF before it) is not looked at.
 * `holder` (from scanId) says whose bytes these are, so the same event's bytes are copied once;
 * they must not change. The returned object is reused by the next call.
 */
export function scanHeaders(holder: number, raw: Buffer, end: number, needle: Uint8Array): ScanResult {
  result.blank = -1;
  if (scan === undefined || !enabled || end > MAX_SCAN_BYTES || needle.length > NEEDLE_ROOM) {
    result.line = UNAVAILABLE;
    return result;
  }
  const mem = memory!;
  if (needleInMemory !== needle) {
    mem.set(needle, 0);
    needleInMemory = needle;
  }
  if (owner !== holder) {
    owner = holder;
    copied = 0;
  }
  let window = end < FIRST_WINDOW ? end : FIRST_WINDOW;
  for (;;) {
    if (copied < window) {
      mem.set(new Uint8Array(raw.buffer, raw.byteOffset + copied, window - copied), NEEDLE_ROOM + copied);
      copied = window;
    }
    const r = scan(NEEDLE_ROOM, NEEDLE_ROOM + window, 0, needle.length);
    if (r >= 0) {
      result.line = r - NEEDLE_ROOM;
      return result;
    }
    if (r <= -2) {
      result.line = NOT_IN_HEADERS;
      result.blank = -2 - r - NEEDLE_ROOM;
      return result;
    }
    if (window === end) {
      result.line = NOT_IN_HEADERS;
      return result;
    }
    window = end;
  }
}

/** Tests switch the scanner off to check the Buffer searches give the same answers. */
export function setLineScan(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Whether the WebAssembly scanner is in use. */
export function lineScanAvailable(): boolean {
  return scan !== undefined && enabled;
}
