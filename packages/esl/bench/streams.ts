/**
 * Input streams for the benchmarks: real events from the FreeSWITCH captures, and a generated
 * stream of large CHANNEL events built from a real one.
 */
import { randomUUID } from 'node:crypto';
import { EslEvent, parseFrames, urlEncode, type Frame } from '../src/protocol/index.js';
import { fixture } from '../test/helpers/fixtures.js';

export interface Stream {
  label: string;
  /** The whole byte stream. */
  data: Buffer;
  /** The same bytes cut the way a socket hands them over. */
  chunks: Buffer[];
  /** Number of frames (all of them events) in `data`. */
  events: number;
  /** Event-Name values present (some peers need a listener per name). */
  eventNames: string[];
}

/** Cuts `data` into pieces of `size` bytes (the last one shorter). */
export function chunk(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, Math.min(data.length, i + size)));
  return out;
}

function frameBytes(contentType: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`Content-Length: ${payload.length}\nContent-Type: ${contentType}\n\n`), payload]);
}

function makeStream(label: string, frames: Buffer[], chunkSize: number): Stream {
  const data = Buffer.concat(frames);
  const names = new Set<string>();
  for (const f of parseFrames(data)) {
    const ev = EslEvent.fromFrame(f);
    if (ev === undefined) throw new Error(`${label}: a frame that is not an event`);
    names.add(ev.name);
  }
  return { label, data, chunks: chunk(data, chunkSize), events: frames.length, eventNames: [...names] };
}

/** The text/event-plain frames of plain.bin, byte for byte, repeated `repeat` times. */
export function capturedPlainStream(repeat: number, chunkSize: number): Stream {
  const data = fixture('plain');
  const frames: Buffer[] = [];
  for (const f of parseFrames(data)) {
    if (f.contentType === 'text/event-plain') frames.push(frameBytes('text/event-plain', f.body!));
  }
  const all: Buffer[] = [];
  for (let i = 0; i < repeat; i++) all.push(...frames);
  return makeStream(`plain.bin events (${frames.length} real events × ${repeat})`, all, chunkSize);
}

/**
 * Channel variables of the kind a SIP call carries, used to grow a real loopback event to the
 * size and header count of a typical sofia CHANNEL event.
 */
const PADDING: Array<[string, string]> = [
  ['variable_sip_from_user', '1000'],
  ['variable_sip_from_uri', '1000@pbx.example.com'],
  ['variable_sip_from_host', 'pbx.example.com'],
  ['variable_sip_from_display', 'Jürgen Ünal'],
  ['variable_sip_from_tag', 'Qm3aB7cK2pSrF'],
  ['variable_sip_to_user', '4930123456'],
  ['variable_sip_to_uri', '4930123456@pbx.example.com'],
  ['variable_sip_to_host', 'pbx.example.com'],
  ['variable_sip_req_user', '4930123456'],
  ['variable_sip_req_uri', '4930123456@pbx.example.com;transport=udp'],
  ['variable_sip_req_host', 'pbx.example.com'],
  ['variable_sip_contact_user', '1000'],
  ['variable_sip_contact_uri', '1000@198.51.100.23:5062;transport=udp;ob'],
  ['variable_sip_contact_host', '198.51.100.23'],
  ['variable_sip_contact_port', '5062'],
  ['variable_sip_via_host', '198.51.100.23'],
  ['variable_sip_via_port', '5062'],
  ['variable_sip_via_rport', '5062'],
  ['variable_sip_via_protocol', 'udp'],
  ['variable_sip_network_ip', '198.51.100.23'],
  ['variable_sip_network_port', '5062'],
  ['variable_sip_received_ip', '198.51.100.23'],
  ['variable_sip_received_port', '5062'],
  ['variable_sip_call_id', 'a84b4c76e66710@198.51.100.23'],
  ['variable_sip_user_agent', 'Zoiper rv2.10.19.5 (desktop; Linux x86_64)'],
  ['variable_sip_allow', 'INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE'],
  ['variable_sip_cseq', '2 INVITE'],
  ['variable_sip_full_via', 'SIP/2.0/UDP 198.51.100.23:5062;branch=z9hG4bK-524287-1---e0b5f4e9;rport=5062'],
  ['variable_sip_full_from', '"Jürgen Ünal" <sip:1000@pbx.example.com>;tag=Qm3aB7cK2pSrF'],
  ['variable_sip_full_to', '<sip:4930123456@pbx.example.com>'],
  ['variable_sip_local_network_addr', '192.0.2.2'],
  ['variable_sip_profile_name', 'internal'],
  ['variable_sofia_profile_name', 'internal'],
  ['variable_sofia_profile_url', 'sip:mod_sofia@192.0.2.2:5060'],
  ['variable_user_name', '1000'],
  ['variable_domain_name', 'pbx.example.com'],
  ['variable_accountcode', '1000'],
  ['variable_user_context', 'default'],
  ['variable_effective_caller_id_name', 'Jürgen Ünal'],
  ['variable_effective_caller_id_number', '1000'],
  ['variable_outbound_caller_id_name', 'FreeSWITCH'],
  ['variable_outbound_caller_id_number', '0000000000'],
  ['variable_callgroup', 'techsupport'],
  ['variable_remote_media_ip', '198.51.100.23'],
  ['variable_remote_media_port', '40112'],
  ['variable_rtp_use_codec_string', 'OPUS,G722,PCMU,PCMA,H264,VP8'],
  ['variable_ep_codec_string', 'mod_opus.opus@48000h@20i@2c,mod_spandsp.G722@8000h@20i@64000b,CORE_PCM_MODULE.PCMU@8000h@20i@64000b'],
  ['variable_rtp_local_sdp_str', ''], // filled below to reach the target size
];

/** A plausible SDP offer, CRLF line endings, as FreeSWITCH stores it in rtp_local_sdp_str. */
function sdp(lines: number): string {
  const out = [
    'v=0',
    'o=FreeSWITCH 1795712345 1795712346 IN IP4 192.0.2.2',
    's=FreeSWITCH',
    'c=IN IP4 192.0.2.2',
    't=0 0',
    'm=audio 23456 RTP/AVP 102 9 0 8 101',
    'a=rtpmap:102 opus/48000/2',
    'a=fmtp:102 useinbandfec=1; maxaveragebitrate=30000; maxplaybackrate=48000; ptime=20; minptime=10; maxptime=40',
    'a=rtpmap:9 G722/8000',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=ptime:20',
    'a=sendrecv',
  ];
  for (let i = 0; out.length < lines; i++) out.push(`a=candidate:${i} 1 udp 659136 192.0.2.2 ${23456 + i} typ host generation 0`);
  return out.slice(0, lines).join('\r\n') + '\r\n';
}

/**
 * A stream of ~5.5 KB CHANNEL events with ~118 %-encoded headers, built from a real CHANNEL_*
 * event of plain.bin padded with SIP-like channel variables. Each event gets its own Unique-ID
 * (every occurrence of the original channel UUID is replaced, so byte counts stay the same).
 */
export function generatedChannelStream(count: number, chunkSize: number, targetBytes = 5600, targetHeaders = 118): Stream {
  const frames = parseFrames(fixture('plain'));
  const base = frames
    .map((f: Frame) => EslEvent.fromFrame(f))
    .find((ev) => ev !== undefined && ev.name === 'CHANNEL_EXECUTE_COMPLETE' && ev.body === '');
  if (base === undefined) throw new Error('plain.bin has no CHANNEL_EXECUTE_COMPLETE event');
  const headers = [...base.headers()];
  const uuid = base.uniqueId!;
  const room = targetHeaders - headers.length;
  if (room < 2) throw new Error('base event already has too many headers');
  const extra = PADDING.slice(0, room - 1);
  const encodeLines = (pairs: Array<[string, string]>): string => pairs.map(([n, v]) => `${n}: ${urlEncode(v)}\n`).join('');
  let sdpLines = 2;
  let text = '';
  for (;;) {
    const all = [...headers, ...extra, ['variable_rtp_local_sdp_str', sdp(sdpLines)] as [string, string]];
    text = `${encodeLines(all)}\n`;
    if (Buffer.byteLength(text) >= targetBytes - 60 || sdpLines > 200) break;
    sdpLines++;
  }
  const template = text;
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    out.push(frameBytes('text/event-plain', Buffer.from(template.replaceAll(uuid, randomUUID()), 'utf8')));
  }
  const headerCount = template.split('\n').length - 2;
  return makeStream(
    `generated CHANNEL_EXECUTE_COMPLETE, ${Buffer.byteLength(template)} B, ${headerCount} headers × ${count}`,
    out,
    chunkSize,
  );
}
