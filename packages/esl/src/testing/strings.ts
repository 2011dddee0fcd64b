/** FreeSWITCH's argument splitting and cleaning (switch_utils.c), as the api commands use it. */

/** unescape_char (switch_utils.c:2617): the letters a backslash turns into a control character or space. */
const UNESCAPED: Record<string, string> = { n: '\n', r: '\r', t: '\t', s: ' ' };

/** cleanup_separated_string (switch_utils.c:2687): drops leading spaces, quotes and trailing spaces; resolves backslash escapes. */
export function cleanupPart(part: string, delim: string | undefined): string {
  let i = 0;
  while (part[i] === ' ') i++;
  let out = '';
  let keep = -1;
  let quoted = false;
  for (; i < part.length; i++) {
    const c = part[i]!;
    if (c === '\\' && i + 1 < part.length) {
      const e = part[i + 1]!;
      const plain = e === "'" || e === '"' || e === delim || e === '\\';
      if (plain || UNESCAPED[e] !== undefined) {
        i++;
        out += plain ? e : UNESCAPED[e];
        keep = out.length;
        continue;
      }
    }
    if (c === "'" && (quoted || part.includes("'", i + 1))) {
      quoted = !quoted;
      if (quoted) keep = out.length;
    } else {
      out += c;
      if (c !== ' ' || quoted) keep = out.length;
    }
  }
  return keep === -1 ? out : out.slice(0, keep);
}

/**
 * switch_separate_string (switch_utils.c:2855) into at most `max` parts, the last one taking the
 * rest: runs of spaces split (or each `delim`), single quotes group, a backslash escapes; a leading
 * `^^<c>` makes <c> the separator instead. Each part is then cleaned (cleanup_separated_string):
 * quotes dropped, escapes resolved. show_function splits its argument this way, so
 * `as delim \t` and `^^:channels:as:json` work as on FreeSWITCH.
 */
export function separateString(text: string, max: number, separator = ' '): string[] {
  let delim = separator;
  let buf = text;
  if (buf.startsWith('^^') && buf.length >= 4) {
    delim = buf[2]!;
    buf = buf.slice(3);
  }
  const starts: number[] = [];
  const ends: number[] = [];
  let i = 0;
  let quoted = false;
  let state: 'start' | 'skip' | 'find' | 'trail' = 'start';
  while (i < buf.length && starts.length < max) {
    const c = buf[i]!;
    if (state === 'start') {
      starts.push(i);
      ends.push(buf.length);
      state = delim === ' ' ? 'skip' : 'find';
    } else if (state === 'skip') {
      if (c === ' ') i++;
      else state = 'find';
    } else if (state === 'find') {
      if (c === '\\') i++;
      else if (c === "'" && (delim === ' ' || quoted || buf.includes("'", i + 1))) quoted = !quoted;
      else if (c === delim && !quoted) {
        ends[ends.length - 1] = i;
        state = delim === ' ' ? 'trail' : 'start';
      }
      i++;
    } else if (c === ' ') i++;
    else state = 'start';
  }
  return starts.map((s, k) => cleanupPart(buf.slice(s, ends[k]), delim === ' ' ? undefined : delim));
}
