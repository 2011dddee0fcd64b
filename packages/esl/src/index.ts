export * from './errors.js';
export * from './protocol/index.js';
export { Connection, replyText, isErrorReply, checkReply, LOG_LEVEL_NAMES } from './connection.js';
export type { ConnectionOptions, ConnectionEventMap, LogRecord, ReplyKind, SendOptions } from './connection.js';
export { ExecutionTracker } from './execution-tracker.js';
export type { ExecutionWaitOptions } from './execution-tracker.js';
export { createServer, Server } from './server.js';
export type { CallHandler, ServerOptions, ListenOptions, RejectedConnection, ServerEventMap } from './server.js';
export { CallSession } from './call-session.js';
export type { CallEnd, CallExecuteOptions, CommandOptions, BgapiJob, PlayAndGetDigitsOptions } from './call-session.js';
export { connect, EslClient } from './client.js';
export type {
  ApiOptions, BgapiOptions, ClientExecuteOptions, ClientState, CommandOptions as ClientCommandOptions, ConnectOptions, EslClientEventMap,
  EventSelector, EventStream, EventStreamOptions, OverflowPolicy, Permissions, ReconnectAttempt, ReconnectOptions, StateStream,
  StateChangeInfo,
} from './client.js';
