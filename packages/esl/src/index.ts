export * from './errors.js';
export * from './protocol/index.js';
export { Connection, replyText, isErrorReply, checkReply, LOG_LEVEL_NAMES } from './transport/connection.js';
export type { ConnectionOptions, ConnectionEventMap, LogRecord, ReplyKind, SendOptions } from './transport/connection.js';
export { ExecutionTracker } from './commands/execution-tracker.js';
export type { ExecutionWaitOptions } from './commands/execution-tracker.js';
export { createServer, Server } from './outbound/server.js';
export type { CallHandler, ServerOptions, ListenOptions, RejectedConnection, ServerEventMap } from './outbound/server.js';
export { CallSession } from './outbound/call-session.js';
export type { CallEnd, CallExecuteOptions, CommandOptions, BgapiJob, PlayAndGetDigitsOptions } from './outbound/call-session.js';
export { connect, EslClient } from './inbound/client.js';
export type {
  ApiOptions, BgapiOptions, ClientExecuteOptions, ClientState, CommandOptions as ClientCommandOptions, ConnectOptions, EslClientEventMap,
  EventSelector, EventStream, EventStreamOptions, OverflowPolicy, Permissions, ReconnectAttempt, ReconnectOptions, StateStream,
  StateChangeInfo,
} from './inbound/client.js';
