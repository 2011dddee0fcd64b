import { urlEncode, xmlEscape } from './encoding.js';
import type { EventFormat } from './event.js';

/**
 * Serializes events the way FreeSWITCH writes them into text/event-plain, text/event-json and
 * text/event-xml frames (EV switch_event_serialize, switch_event_serialize_json_obj,
 * switch_event_xmlize + switch_xml_toxml). The output is the frame *body*; the outer frame is
 * `Content-Length: <bytes>\nContent-Type: text/event-<fmt>\n\n` + body (MES read_packet).
 */

/** A header value: a string, or an array header (FreeSWITCH's `ARRAY::a|:b`, pushed values). */
export type EventHeaderValue = string | readonly string[];
export type EventHeaderList = Iterable<readonly [name: string, value: EventHeaderValue]>;

const ARRAY_PREFIX = 'ARRAY::';

/**
 * The element list of a header. EV switch_event_base_add_header turns any value that starts with
 * `ARRAY::` into an array header, so such strings are split on `|:` as FreeSWITCH would.
 */
function arrayItems(value: EventHeaderValue): readonly string[] | undefined {
  if (typeof value !== 'string') return value;
  if (value.startsWith(ARRAY_PREFIX)) return value.slice(ARRAY_PREFIX.length).split('|:');
  return undefined;
}

/** The single-string form FreeSWITCH keeps in hp->value (arrays are redrawn as `ARRAY::a|:b`). */
function flatValue(value: EventHeaderValue): string {
  if (typeof value === 'string') return value;
  return ARRAY_PREFIX + value.join('|:');
}

/**
 * text/event-plain: `Name: url-encoded-value` lines; an empty encoded value is written `_undef_`;
 * a non-empty body adds `Content-Length: <bytes>`, a blank line and the raw body, otherwise the
 * block just ends with a blank line (EV switch_event_serialize with encode=TRUE).
 */
export function serializeEventPlain(headers: EventHeaderList, body?: string): string {
  let out = '';
  for (const [name, value] of headers) {
    const encoded = urlEncode(flatValue(value));
    out += `${name}: ${encoded === '' ? '_undef_' : encoded}\n`;
  }
  if (body !== undefined && body.length > 0) {
    out += `Content-Length: ${Buffer.byteLength(body, 'utf8')}\n\n${body}`;
  } else {
    out += '\n';
  }
  return out;
}

/**
 * text/event-json: one flat object printed by cJSON_PrintUnformatted. Values are raw strings;
 * array headers become arrays; a body (even an empty one) adds "Content-Length" and "_body" last.
 * Duplicate names are written as duplicate keys, as cJSON does. JSON.stringify escapes strings
 * exactly like cJSON's print_string_ptr (", \, \b \f \n \r \t, other controls as \u00xx).
 */
export function serializeEventJson(headers: EventHeaderList, body?: string): string {
  const parts: string[] = [];
  for (const [name, value] of headers) {
    const items = typeof value === 'string' ? undefined : value;
    const json = items === undefined ? JSON.stringify(value as string) : `[${items.map((v) => JSON.stringify(v)).join(',')}]`;
    parts.push(`${JSON.stringify(name)}:${json}`);
  }
  if (body !== undefined) {
    parts.push(`"Content-Length":${JSON.stringify(String(Buffer.byteLength(body, 'utf8')))}`);
    parts.push(`"_body":${JSON.stringify(body)}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * text/event-xml as switch_xml_toxml prints the tree built by switch_event_xmlize: two-space
 * indentation, each header an element named after it holding the URL-encoded then XML-escaped
 * value (one element per item for array headers), then `<Content-Length>` and `<body>` only for
 * a non-empty body. The closing tag of an element whose text ends in LF is indented.
 */
export function serializeEventXml(headers: EventHeaderList, body?: string): string {
  let out = '<event>\n  <headers>\n';
  for (const [name, value] of headers) {
    const items = arrayItems(value) ?? [value as string];
    for (const item of items) out += `    <${name}>${xmlEscape(urlEncode(item))}</${name}>\n`;
  }
  out += '  </headers>\n';
  if (body !== undefined && body.length > 0) {
    out += `  <Content-Length>${Buffer.byteLength(body, 'utf8')}</Content-Length>\n`;
    const text = xmlEscape(body);
    out += `  <body>${text}${text.endsWith('\n') ? '  ' : ''}</body>\n`;
  }
  out += '</event>\n';
  return out;
}

/** Serializes an event body in the given format (the payload of a text/event-<format> frame). */
export function serializeEvent(format: EventFormat, headers: EventHeaderList, body?: string): string {
  switch (format) {
    case 'plain':
      return serializeEventPlain(headers, body);
    case 'json':
      return serializeEventJson(headers, body);
    case 'xml':
      return serializeEventXml(headers, body);
  }
}

/** A complete text/event-<format> frame (outer headers + serialized event) as bytes. */
export function eventFrame(format: EventFormat, headers: EventHeaderList, body?: string): Buffer {
  const payload = Buffer.from(serializeEvent(format, headers, body), 'utf8');
  const head = Buffer.from(`Content-Length: ${payload.length}\nContent-Type: text/event-${format}\n\n`, 'latin1');
  return Buffer.concat([head, payload]);
}
