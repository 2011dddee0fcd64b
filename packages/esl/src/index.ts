export * from './errors.js';
export * from './protocol/index.js';
export { Connection, replyText, isErrorReply, checkReply, LOG_LEVEL_NAMES } from './connection.js';
export type { ConnectionOptions, ConnectionEventMap, LogRecord, ReplyKind, SendOptions } from './connection.js';
export { ExecuteWaiters } from './execute-waiters.js';
export type { CompletionOptions } from './execute-waiters.js';
