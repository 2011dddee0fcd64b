/** Log lines as switch_log hands them to mod_event_socket: the `log/data` frame and its text. */
import { LOG_LEVEL_NAMES, logLevelFromText } from '../protocol/log-levels.js';
import { localStamp, nowMicros } from './events.js';

/** Extra log line metadata for {@link Simulator.log}. */
export interface LogMeta {
  file?: string;
  func?: string;
  line?: number;
  /** Session UUID: the line goes out on the session channel (Text-Channel 3) with User-Data = uuid. */
  uuid?: string;
  /** Clean line (Text-Channel 1): the text without the date/level prefix. */
  clean?: boolean;
  /** A SWITCH_CHANNEL_ID_LOG line about the session `uuid`: Text-Channel 0, User-Data still the uuid. */
  idLog?: boolean;
}

/** A level given as a number or a name (switch_log_str2level); an unknown name is DEBUG. */
export function logLevel(level: number | string): number {
  return typeof level === 'number' ? level : (logLevelFromText(level) ?? 7);
}

/**
 * The `log/data` frame for one line (MES read_packet): the headers, then the text as
 * switch_log_meta_vprintf formats it — "<date> <idle cpu>% [LEVEL] file:line text", or the bare
 * text for a clean line. The session uuid goes in User-Data only.
 */
export function logFrame(level: number, text: string, meta: LogMeta): Buffer {
  const file = meta.file ?? 'simulator.c';
  const func = meta.func ?? 'sim_log';
  const lineNo = meta.line ?? 1;
  const channel = meta.clean ? 1 : meta.uuid && !meta.idLog ? 3 : 0;
  let body = text;
  if (!meta.clean) {
    const now = nowMicros();
    const stamp = `${localStamp(new Date(Math.floor(now / 1000)))}.${String(now % 1_000_000).padStart(6, '0')}`;
    body = `${stamp} 99.00% [${LOG_LEVEL_NAMES[level] ?? 'DEBUG'}] ${file}:${lineNo} ${text}`;
  }
  const bytes = Buffer.from(body, 'utf8');
  const head =
    `Content-Type: log/data\nContent-Length: ${bytes.length}\nLog-Level: ${level}\nText-Channel: ${channel}\n` +
    `Log-File: ${file}\nLog-Func: ${func}\nLog-Line: ${lineNo}\nUser-Data: ${meta.uuid ?? ''}\n\n`;
  return Buffer.concat([Buffer.from(head), bytes]);
}
