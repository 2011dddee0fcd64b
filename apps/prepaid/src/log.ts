/**
 * Line-oriented logging, as key=value text or as one JSON object a line (`--log-format json`, for
 * log shippers). Every line about a call carries that call's uuid (`call=<uuid>`), so the lines of
 * one call can be grepped out of a busy server's log. Messages and values pass through
 * redactText, so a CouchDB password can never be logged by accident.
 */
import { redactText } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];
const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, string | number | boolean | undefined | null>;

export interface LogRecord {
  time: Date;
  level: LogLevel;
  message: string;
  fields: LogFields;
}

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose every line also carries `fields` (e.g. `{ call: uuid }`). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** `text` (default): `time LEVEL key=value… message`; `json`: one object a line. */
  format?: LogFormat;
  /** Where formatted lines go; default process.stderr. */
  write?: (line: string) => void;
  /** Receives structured records as well (the demo uses this to follow calls live). */
  onRecord?: (record: LogRecord) => void;
}

function formatValue(value: string | number | boolean): string {
  const text = redactText(String(value));
  return /[\s"=]/.test(text) || text === '' ? JSON.stringify(text) : text;
}

export function formatRecord(record: LogRecord): string {
  const parts = [record.time.toISOString(), record.level.toUpperCase().padEnd(5)];
  for (const [key, value] of Object.entries(record.fields)) {
    if (value !== undefined && value !== null) parts.push(`${key}=${formatValue(value)}`);
  }
  parts.push(redactText(record.message));
  return parts.join(' ');
}

/**
 * `{"time":…,"level":"info","msg":…,<fields>}`: the fields at the top level (as log shippers
 * index them), after time, level and msg, which no field can overwrite.
 */
export function formatRecordJson(record: LogRecord): string {
  const line: Record<string, string | number | boolean> = {
    time: record.time.toISOString(),
    level: record.level,
    msg: redactText(record.message),
  };
  for (const [key, value] of Object.entries(record.fields)) {
    if (value === undefined || value === null || key in line) continue;
    line[key] = typeof value === 'string' ? redactText(value) : value;
  }
  return JSON.stringify(line);
}

export function createLogger(options: LoggerOptions = {}, bound: LogFields = {}): Logger {
  const threshold = LEVEL_RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const format = options.format === 'json' ? formatRecordJson : formatRecord;
  const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
    const record: LogRecord = { time: new Date(), level, message, fields: { ...bound, ...fields } };
    options.onRecord?.(record);
    if (LEVEL_RANK[level] >= threshold) write(format(record));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

/** The flush of every batched writer holding lines, so that lines logged just before an exit still leave. */
const unflushed = new Set<() => void>();
let flushOnExit = false;

/**
 * A writer that gathers the lines logged in one turn of the event loop into one write: a server
 * charging a thousand calls logs thousands of lines a second, and each write to a pipe is a system
 * call (process.stderr writes to pipes and files synchronously). The lines leave at the end of the
 * turn, in order, or at once if the process exits first.
 */
export function batchedWriter(write: (text: string) => void): (line: string) => void {
  let pending = '';
  const flush = (): void => {
    unflushed.delete(flush);
    const text = pending;
    pending = '';
    if (text !== '') write(text);
  };
  return (line) => {
    if (pending === '') {
      if (!flushOnExit) {
        flushOnExit = true;
        process.on('exit', () => {
          for (const f of [...unflushed]) f();
        });
      }
      unflushed.add(flush);
      setImmediate(flush);
    }
    pending += line;
  };
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => {} });
