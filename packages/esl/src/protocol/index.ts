export { Frame, parseHeaderLines } from './frame.js';
export { Parser, parseFrames, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_HEADER_BYTES } from './parser.js';
export type { ParserOptions } from './parser.js';
export { EslEvent, EVENT_NAMES } from './event.js';
export type { EventName, EventFormat } from './event.js';
export { serializeCommand, commands, assertSingleLine } from './serializer.js';
export type { HeaderInput, ExecuteOptions, LogLevel } from './serializer.js';
export { Command, CommandReader, MAX_COMMAND_BODY, MAX_COMMAND_BLOCK } from './command-reader.js';
export { urlEncode, urlDecode, urlDecodeBytes, xmlEscape, xmlUnescape } from './encoding.js';
