/** Variable expansion as FreeSWITCH does it for `${…}` and `$${…}` (switch_event_expand_headers_check). */

/** Where the names of one expansion are looked up. */
export interface ExpansionScope {
  /** `${name}`: the event header or channel variable; undefined falls back to `global`. */
  local(name: string): string | undefined;
  /** `$${name}` and the fallback of `${name}`: the core's global variables. */
  global(name: string): string | undefined;
}

/** Expansion stops nesting here, as FreeSWITCH does (recur > 100). */
const MAX_DEPTH = 100;

/**
 * Expands `${name}`, `$${name}` (global only) and `${name:offset[:length]}`, with the backslash
 * rules of switch_event_expand_headers_check (switch_event.c, v1.10.12): `\$` keeps a literal
 * dollar, `\'` is dropped, `\\` becomes one backslash. Names are expanded first (`${${which}}`); a
 * value taken from the global variables is expanded again, a local one is not. An unknown name
 * expands to nothing.
 * `${api args}` (api expansion) is not run: its text expands to nothing.
 */
export function expandVariables(text: string, scope: ExpansionScope, depth = 0): string {
  // Only text with a `${` or escaped data is rewritten (switch_string_var_check_const, switch_string_has_escaped_data).
  if (depth > MAX_DEPTH || !/\$\{|\\[$']/.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      const next = text[i + 1];
      if (next === '$') {
        // An escaped dollar (or `\$$`) is copied as one dollar without expanding.
        i += text[i + 2] === '$' ? 2 : 1;
        out += '$';
        continue;
      }
      if (next === "'") {
        i++;
        continue;
      }
      if (next === '\\') {
        // The pair is copied as one backslash.
        out += '\\';
        i++;
        continue;
      }
    }
    if (c !== '$') {
      out += c;
      continue;
    }
    let at = i;
    let global = false;
    if (text[at + 1] === '$') {
      at++;
      global = true;
    }
    if (text[at + 1] !== '{') {
      // A dollar not followed by `{` is kept (with the `$$` pair collapsed to its second dollar).
      out += '$';
      i = at;
      continue;
    }
    // The name runs to the matching close brace.
    let level = 1;
    let end = at + 2;
    for (; end < text.length; end++) {
      if (text[end] === '{') level++;
      else if (text[end] === '}' && --level === 0) break;
    }
    const inner = text.slice(at + 2, end);
    i = end;
    const call = /[ (]/.exec(inner);
    if (call) continue; // `${api args}` / `${api(args)}`: api expansion, not simulated
    let name = expandVariables(inner, scope, depth + 1);
    let offset = 0;
    let length = 0;
    const colon = name.indexOf(':');
    if (colon !== -1) {
      const parts = name.slice(colon + 1).split(':');
      offset = atoi(parts[0] ?? '');
      length = atoi(parts[1] ?? '');
      name = name.slice(0, colon);
    }
    const bracket = name.indexOf('[');
    if (bracket !== -1 && name.includes(']', bracket)) name = name.slice(0, bracket);
    let value = global ? undefined : scope.local(name);
    if (value === undefined) {
      value = scope.global(name);
      if (value === undefined) continue;
      value = expandVariables(value, scope, depth + 1);
    }
    if (offset > 0) value = value.slice(offset);
    else if (offset < 0 && -offset <= value.length) value = value.slice(value.length + offset);
    if (length > 0 && length < value.length) value = value.slice(0, length);
    out += value;
  }
  return out;
}

function atoi(text: string): number {
  const m = /^\s*[-+]?\d+/.exec(text);
  return m ? Number.parseInt(m[0], 10) : 0;
}
