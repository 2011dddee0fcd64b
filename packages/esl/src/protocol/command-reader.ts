import { EslParseError } from '../errors.js';

/** A command as mod_event_socket receives it from a client. */
export class Command {
  constructor(
    /** The first line, e.g. `api status` or `sendmsg <uuid>`. */
    readonly line: string,
    /** Header lines after the first, in order; duplicates kept. */
    readonly headers: ReadonlyArray<readonly [string, string]>,
    /** Exactly Content-Length bytes when the command declared one. */
    readonly body: Buffer | undefined,
  ) {}

  /** First value of a header; names compare case-insensitively (switch_event_get_header_ptr). */
  get(name: string): string | undefined {
    const lower = name.toLowerCase();
    for (const [n, v] of this.headers) if (n.toLowerCase() === lower) return v;
    return undefined;
  }

  get bodyText(): string {
    return this.body === undefined ? '' : this.body.toString('utf8');
  }
}

/** mod_event_socket's MAX_CONTENT_LENGTH (commit a097e12421): larger bodies drop the connection. */
export const MAX_COMMAND_BODY = 16 * 1024 * 1024;
/** mod_event_socket force-ends a header block at this many bytes (`max_len` in read_packet). */
export const MAX_COMMAND_BLOCK = 10 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/**
 * The server side of the framing: reads commands the way mod_event_socket's read_packet() does.
 * CR/LF bytes before a command are skipped; a block ends at two LFs with only CRs (or nothing)
 * between them, so "\n\n", "\n\r\n" and "\r\n\r\n" all work; lines split at the first ':', leading
 * spaces of a value are removed; lines without ':' and empty values are dropped; Content-Length
 * (any case) announces a body of that many bytes.
 */
export class CommandReader {
  private readonly onCommand: (cmd: Command) => void;
  private parts: Buffer[] = [];
  private size = 0;
  /** Since the last LF we have seen only CRs (or nothing): the next LF ends the block. */
  private afterLF = false;
  private started = false;
  private pending: { line: string; headers: Array<[string, string]> } | undefined;
  private body: Buffer | undefined;
  private bodyFilled = 0;
  private failed: EslParseError | undefined;

  constructor(onCommand: (cmd: Command) => void) {
    this.onCommand = onCommand;
  }

  /** True while part of a command is buffered (FreeSWITCH sends no events in that state). */
  get busy(): boolean {
    return this.started || this.pending !== undefined;
  }

  push(chunk: Buffer): void {
    if (this.failed) throw this.failed;
    try {
      let pos = 0;
      while (pos < chunk.length) pos = this.step(chunk, pos);
    } catch (err) {
      this.failed = err instanceof EslParseError ? err : new EslParseError(String(err));
      throw this.failed;
    }
  }

  private step(chunk: Buffer, pos: number): number {
    if (this.pending !== undefined) {
      const body = this.body!;
      const take = Math.min(body.length - this.bodyFilled, chunk.length - pos);
      chunk.copy(body, this.bodyFilled, pos, pos + take);
      this.bodyFilled += take;
      if (this.bodyFilled === body.length) this.finish(body);
      return pos + take;
    }
    if (!this.started) {
      while (pos < chunk.length && (chunk[pos] === CR || chunk[pos] === LF)) pos++;
      if (pos === chunk.length) return pos;
      this.started = true;
      this.afterLF = false;
    }
    const from = pos;
    for (; pos < chunk.length; pos++) {
      const b = chunk[pos];
      if (b === LF) {
        if (this.afterLF) {
          pos++;
          this.parts.push(chunk.subarray(from, pos));
          this.size += pos - from;
          this.endBlock();
          return pos;
        }
        this.afterLF = true;
      } else if (b !== CR) {
        this.afterLF = false;
      }
    }
    this.parts.push(chunk.subarray(from));
    this.size += chunk.length - from;
    if (this.size > MAX_COMMAND_BLOCK) throw new EslParseError('command header block too large');
    return pos;
  }

  private endBlock(): void {
    const text = Buffer.concat(this.parts, this.size).toString('utf8');
    this.parts = [];
    this.size = 0;
    this.started = false;
    const lines = text.split(/\r?\n|\r/);
    const line = lines[0] ?? '';
    const headers: Array<[string, string]> = [];
    let contentLength = 0;
    for (let i = 1; i < lines.length; i++) {
      const l = lines[i]!;
      const colon = l.indexOf(':');
      if (colon <= 0) continue;
      const name = l.slice(0, colon);
      const value = l.slice(colon + 1).replace(/^ +/, '');
      if (value === '') continue;
      headers.push([name, value]);
      if (name.toLowerCase() === 'content-length') {
        const n = Number(value.trim());
        if (!Number.isInteger(n) || n < 0 || n > MAX_COMMAND_BODY) {
          throw new EslParseError(`invalid Content-Length: ${value}`);
        }
        contentLength = n;
      }
    }
    if (contentLength > 0) {
      this.pending = { line, headers };
      this.body = Buffer.alloc(contentLength);
      this.bodyFilled = 0;
      return;
    }
    this.onCommand(new Command(line, headers, undefined));
  }

  private finish(body: Buffer): void {
    const { line, headers } = this.pending!;
    this.pending = undefined;
    this.body = undefined;
    this.bodyFilled = 0;
    this.onCommand(new Command(line, headers, body));
  }
}
