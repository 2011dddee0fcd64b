/** The public API of freeswitch-esl, exported by name: the protocol core, the inbound client, the outbound server, errors. */

// Errors: one class per condition, each with a stable `code` (see errors.ts).
export {
  EslError,
  EslParseError,
  EslInvalidArgumentError,
  EslCommandError,
  EslAuthError,
  EslAccessDeniedError,
  EslConnectionClosedError,
  EslConnectError,
  EslOutOfSyncError,
  EslTimeoutError,
  EslAbortError,
  EslHangupError,
  EslServerError,
  isRetriable,
} from './errors.js';
export type { EslErrorCode } from './errors.js';

// Protocol core (socket-free): framing, events, the commands a client sends, FreeSWITCH's
// encodings and its event serialization (for peers that play FreeSWITCH's part in tests).
export {
  Frame,
  Parser,
  parseFrames,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
  EslEvent,
  EVENT_NAMES,
  serializeCommand,
  commands,
  urlEncode,
  urlDecode,
  xmlEscape,
  xmlUnescape,
  serializeEvent,
  serializeEventPlain,
  serializeEventJson,
  serializeEventXml,
  eventFrame,
} from './protocol/index.js';
export type {
  ParserOptions,
  EventName,
  EventFormat,
  HeaderInput,
  ExecuteOptions as ExecuteMessageOptions,
  LogLevel,
  EventHeaderValue,
  EventHeaderList,
} from './protocol/index.js';

// What a connection hands over besides events.
export type { LogRecord } from './transport/connection.js';

// The command layer both the client and the call session offer.
export type { EventSelector } from './commands/command-layer.js';
export type { ApiOptions, BgapiOptions, CommandOptions, ExecuteOptions, SendCommandOptions } from './commands/options.js';

// Inbound client.
export { connect, EslClient } from './inbound/client.js';
export type { ConnectOptions, EslClientEventMap, StateChangeInfo } from './inbound/client.js';
export type { ClientState, EventStream, EventStreamOptions, StateStream } from './inbound/event-streams.js';
export type { OverflowPolicy } from './inbound/async-queue.js';
export type { ReconnectOptions } from './inbound/backoff.js';
export type { ReconnectAttempt } from './inbound/reconnect.js';
export type { Permissions } from './inbound/open.js';

// Outbound server and call sessions.
export { createServer, Server } from './outbound/server.js';
export type { CallHandler, ServerOptions, ListenOptions, RejectedConnection, ServerEventMap } from './outbound/server.js';
export { CallSession } from './outbound/call-session.js';
export type { CallEnd, CallSessionEventMap, DisconnectNotice, PlayAndGetDigitsOptions } from './outbound/call-session.js';
