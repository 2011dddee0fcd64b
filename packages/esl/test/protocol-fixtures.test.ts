/**
 * The protocol core against byte-exact captures from a real FreeSWITCH 1.10.12 (test/fixtures).
 * Every number asserted here is given by the fixtures README or follows from the capture itself.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EslEvent, parseFrames, type Frame } from '../src/protocol/index.js';
import {
  byteByByte,
  describeFrames,
  fixture,
  forEveryChunking,
  frameBoundaries,
  parseChunks,
  splitAt,
  FIXTURE_NAMES,
} from './helpers/fixtures.js';

const CALLER = 'Jürgen Ünal';
const CALLER_ENCODED = 'J%C3%BCrgen%20%C3%9Cnal';

/** README: per-type counts of the 142 events in plain.bin and json.bin. */
const EVENT_COUNTS: Record<string, number> = {
  CODEC: 12,
  CHANNEL_STATE: 39,
  CHANNEL_CALLSTATE: 15,
  CHANNEL_CREATE: 6,
  CHANNEL_OUTGOING: 3,
  CHANNEL_ORIGINATE: 3,
  CHANNEL_EXECUTE: 9,
  CHANNEL_EXECUTE_COMPLETE: 9,
  CHANNEL_ANSWER: 6,
  PLAYBACK_START: 3,
  PLAYBACK_STOP: 3,
  CALL_UPDATE: 3,
  API: 4,
  BACKGROUND_JOB: 3,
  CHANNEL_PARK: 3,
  CHANNEL_UNPARK: 3,
  CHANNEL_HANGUP: 6,
  CHANNEL_HANGUP_COMPLETE: 6,
  CHANNEL_DESTROY: 6,
};

const FORMATS = ['plain', 'json', 'xml'] as const;

function countBy<T>(items: Iterable<T>, key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const it of items) {
    const k = key(it);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

function events(frames: readonly Frame[]): EslEvent[] {
  const out: EslEvent[] = [];
  for (const f of frames) {
    const ev = EslEvent.fromFrame(f);
    if (ev !== undefined) out.push(ev);
  }
  return out;
}

function sorted(o: Record<string, number>): Array<[string, number]> {
  return Object.entries(o).sort(([a], [b]) => a.localeCompare(b));
}

describe('fixtures: framing is independent of chunking', () => {
  for (const name of FIXTURE_NAMES) {
    it(`${name}.bin: parser agrees with an independent framer`, () => {
      const data = fixture(name);
      const frames = parseFrames(data);
      const bounds = frameBoundaries(data);
      assert.equal(frames.length, bounds.length);
      for (let i = 0; i < frames.length; i++) {
        const [start, end] = bounds[i]!;
        const own = parseFrames(data.subarray(start, end));
        assert.equal(own.length, 1, `frame ${i} parses alone`);
        assert.equal(describeFrames(own), describeFrames([frames[i]!]), `frame ${i}`);
      }
    });

    it(`${name}.bin: byte by byte gives the same frames as whole`, () => {
      const data = fixture(name);
      const whole = describeFrames(parseFrames(data));
      const r = parseChunks(byteByByte(data));
      assert.equal(r.error, undefined);
      assert.ok(r.idle);
      assert.equal(describeFrames(r.frames), whole);
    });

    it(`${name}.bin: random chunkings give the same frames as whole`, () => {
      const data = fixture(name);
      const whole = describeFrames(parseFrames(data));
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: data.length - 1 }), { maxLength: 300 }), (cuts) => {
          const r = parseChunks(splitAt(data, cuts));
          return r.error === undefined && r.idle && describeFrames(r.frames) === whole;
        }),
        { numRuns: data.length > 100_000 ? 25 : 100 },
      );
    });
  }

  for (const name of ['misc', 'misc-badauth', 'outbound'] as const) {
    it(`${name}.bin: every two-chunk split gives the same frames`, () => {
      const data = fixture(name);
      const whole = describeFrames(parseFrames(data));
      forEveryChunking(data, (chunks, label) => {
        const r = parseChunks(chunks);
        if (r.error !== undefined || !r.idle || describeFrames(r.frames) !== whole) {
          assert.fail(`${name}.bin ${label}: ${String(r.error ?? 'frames differ')}`);
        }
      });
    });
  }

  it('frames cut out of the big captures survive every split', () => {
    for (const name of FORMATS) {
      const data = fixture(name);
      const bounds = frameBoundaries(data);
      const frames = parseFrames(data);
      const pick = (pred: (f: Frame, ev: EslEvent | undefined) => boolean): number => {
        const i = frames.findIndex((f) => pred(f, EslEvent.fromFrame(f)));
        assert.ok(i >= 0);
        return i;
      };
      const picks = [
        pick((f) => f.get('Job-UUID') !== undefined), // bgapi reply with a value containing ': '
        pick((_f, ev) => ev?.name === 'BACKGROUND_JOB'), // event with an inner body
        pick((_f, ev) => ev?.get('Caller-Caller-ID-Name') === CALLER), // UTF-8 (raw in json)
        pick((f) => f.contentType === 'api/response'),
      ];
      for (const i of picks) {
        // The frame, with its neighbours so that frame boundaries get split too.
        const from = bounds[Math.max(0, i - 1)]![0];
        const to = bounds[Math.min(bounds.length - 1, i + 1)]![1];
        const piece = data.subarray(from, to);
        const whole = describeFrames(parseFrames(piece));
        forEveryChunking(piece, (chunks, label) => {
          const r = parseChunks(chunks);
          if (r.error !== undefined || !r.idle || describeFrames(r.frames) !== whole) {
            assert.fail(`${name}.bin frames ${i - 1}..${i + 1}, ${label}: ${String(r.error ?? 'frames differ')}`);
          }
        });
      }
    }
  });

  it('decoded events do not depend on chunking either', () => {
    const data = fixture('plain');
    const decode = (frames: Frame[]): string =>
      JSON.stringify(events(frames).map((ev) => [[...ev.headers()], ev.body]));
    const whole = decode(parseFrames(data));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: data.length - 1 }), { maxLength: 500 }), (cuts) => {
        const r = parseChunks(splitAt(data, cuts));
        return r.error === undefined && decode(r.frames) === whole;
      }),
      { numRuns: 10 },
    );
  });
});

describe('fixtures: plain.bin, json.bin, xml.bin', () => {
  for (const format of FORMATS) {
    const eventCount = format === 'xml' ? 144 : 142;

    it(`${format}.bin: frame types and event counts match the README`, () => {
      const frames = parseFrames(fixture(format));
      assert.deepEqual(
        sorted(countBy(frames, (f) => f.contentType)),
        sorted({
          'auth/request': 1,
          'command/reply': 5,
          'api/response': 1,
          [`text/event-${format}`]: eventCount,
        }),
      );
      const expected = { ...EVENT_COUNTS };
      if (format === 'xml') Object.assign(expected, { HEARTBEAT: 1, RE_SCHEDULE: 1 });
      const evs = events(frames);
      assert.equal(evs.length, eventCount);
      assert.ok(evs.every((ev) => ev.format === format));
      assert.deepEqual(sorted(countBy(evs, (ev) => ev.name)), sorted(expected));
    });

    it(`${format}.bin: outer event frames put Content-Length before Content-Type`, () => {
      for (const f of parseFrames(fixture(format))) {
        if (!f.contentType.startsWith('text/event-')) continue;
        assert.deepEqual(
          f.headers.map(([n]) => n),
          ['Content-Length', 'Content-Type'],
        );
        assert.equal(Number(f.get('Content-Length')), f.body!.length);
      }
    });

    it(`${format}.bin: replies in order, bgapi Job-UUIDs, api/response body`, () => {
      const frames = parseFrames(fixture(format));
      const replies = frames.filter((f) => f.contentType === 'command/reply');
      const texts = replies.map((f) => f.get('Reply-Text'));
      assert.equal(texts[0], '+OK accepted');
      assert.equal(texts[1], `+OK event listener enabled ${format}`);
      const jobs = replies.slice(2).map((f) => {
        const job = f.get('Job-UUID');
        assert.match(job ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        // A raw outer value that itself contains ': '.
        assert.equal(f.get('Reply-Text'), `+OK Job-UUID: ${job}`);
        return job!;
      });
      assert.equal(jobs.length, 3);
      assert.equal(frames[0]!.contentType, 'auth/request');
      assert.equal(frames[0]!.body, undefined);

      const api = frames.find((f) => f.contentType === 'api/response')!;
      assert.equal(api.bodyText, '+OK hangup all channels with cause MANAGER_REQUEST\n');
      assert.equal(api.get('Content-Length'), String(api.body!.length));
      assert.equal(api.get('Reply-Text'), undefined);

      // BACKGROUND_JOB events: one per bgapi, in order, body "+OK <new channel uuid>\n".
      const evs = events(frames);
      const created = new Set(evs.filter((e) => e.name === 'CHANNEL_CREATE').map((e) => e.uniqueId));
      const bg = evs.filter((e) => e.name === 'BACKGROUND_JOB');
      assert.deepEqual(
        bg.map((e) => e.jobUuid),
        jobs,
      );
      for (const e of bg) {
        assert.equal(e.get('Job-Command'), 'originate');
        assert.equal(e.get('Job-Command-Arg'), `{origination_caller_id_name='${CALLER}'}loopback/9999/default &park`);
        const m = /^\+OK ([0-9a-f-]{36})\n$/.exec(e.body);
        assert.ok(m, `BACKGROUND_JOB body ${JSON.stringify(e.body)}`);
        assert.ok(created.has(m[1]), 'the job body names a channel that was created');
        assert.equal(e.get('Content-Length'), String(Buffer.byteLength(e.body)));
      }
    });

    it(`${format}.bin: the caller name decodes to '${CALLER}'`, () => {
      const data = fixture(format);
      // On the wire: URL-encoded in plain and xml, raw UTF-8 in json.
      if (format === 'json') {
        assert.ok(data.includes(CALLER));
        assert.ok(!data.includes(CALLER_ENCODED));
      } else {
        assert.ok(data.includes(CALLER_ENCODED));
        assert.ok(!data.includes(CALLER));
      }
      const frames = parseFrames(data);
      const evs = events(frames);
      const names = countBy(
        evs.filter((e) => e.has('Caller-Caller-ID-Name')),
        (e) => e.callerIdName!,
      );
      assert.deepEqual(Object.keys(names).sort(), [CALLER, 'Outbound Call'].sort());
      assert.ok(names[CALLER]! > 0);
      // The same through the full (iterating) path and the lazy lookup.
      for (const e of evs) {
        const all = new Map([...e.headers()].reverse());
        assert.equal(all.get('Caller-Caller-ID-Name'), e.get('Caller-Caller-ID-Name'));
      }
      const withVar = evs.filter((e) => e.variable('origination_caller_id_name') !== undefined);
      assert.ok(withVar.length > 0);
      for (const e of withVar) assert.equal(e.variable('origination_caller_id_name'), CALLER);

      // Content-Length counts bytes: frames holding the name have more bytes than characters.
      const holding = frames.filter((f) => f.body?.includes(format === 'json' ? CALLER : CALLER_ENCODED));
      assert.ok(holding.length > 0);
      for (const f of holding) {
        assert.equal(Number(f.get('Content-Length')), f.body!.length);
        if (format === 'json') assert.ok(f.bodyText.length < f.body!.length);
      }
    });

    it(`${format}.bin: standard headers of every event (host, Core-UUID, dates, sequence)`, () => {
      const evs = events(parseFrames(fixture(format)));
      for (const e of evs) {
        assert.equal(e.get('Core-UUID'), '74b36429-3ff4-4d88-9ff7-ccc9745e901a');
        assert.equal(e.get('FreeSWITCH-Hostname'), 'vm');
        assert.equal(e.get('FreeSWITCH-IPv4'), '192.0.2.2');
        assert.equal(e.get('FreeSWITCH-IPv6'), 'fd00::2');
        assert.match(e.get('Event-Date-Local') ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
        assert.ok(Number.isInteger(e.sequence));
        if (e.name.startsWith('CHANNEL_')) assert.match(e.uniqueId ?? '', /^[0-9a-f-]{36}$/);
      }
    });
  }

  it('plain events: lazy lookups agree with the full parse for every header', () => {
    for (const f of parseFrames(fixture('plain'))) {
      if (f.contentType !== 'text/event-plain') continue;
      const full = EslEvent.fromFrame(f)!;
      const pairs = [...full.headers()];
      for (const [name] of pairs) {
        const first = pairs.find(([n]) => n === name)![1];
        // A fresh event for each lookup, so that each one takes the lazy path.
        assert.equal(EslEvent.fromFrame(f)!.get(name), first, name);
        assert.equal(full.get(name), first, name);
      }
    }
  });
});

describe('fixtures: misc.bin', () => {
  const frames = parseFrames(fixture('misc'));

  it('holds the replies of the transcript in order', () => {
    const summary = frames.map((f) => {
      if (f.contentType === 'command/reply') return `reply ${f.get('Reply-Text')}`;
      if (f.contentType === 'api/response') return `api ${f.bodyText}`;
      const ev = EslEvent.fromFrame(f);
      return ev ? `event ${ev.name}` : f.contentType;
    });
    assert.equal(summary.length, 19);
    assert.deepEqual(summary.slice(0, 8), [
      'auth/request',
      'reply +OK accepted',
      'api -ERR nosuchcommand Command not found!\n',
      'reply -ERR command not found',
      'reply +OK event listener enabled plain',
      'reply +OK Job-UUID: 11111111-2222-3333-4444-555555555555',
      'event BACKGROUND_JOB',
      'reply +OK filter added. [Unique-ID]=[x]',
    ]);
    assert.equal(summary[8], 'reply +OK filter deleted. [Unique-ID][x]');
    assert.match(summary[9]!, /^reply \+OK [0-9a-f-]{36}$/);
    assert.deepEqual(summary.slice(10), [
      'event CUSTOM',
      'reply +OK events nixed',
      'reply +OK no longer listening for events',
      'reply +OK log level 7 [7]',
      'api +OK [Success]\n',
      'log/data',
      'reply +OK no longer logging',
      'reply +OK bye',
      'text/disconnect-notice',
    ]);
    assert.equal(frames[5]!.get('Job-UUID'), '11111111-2222-3333-4444-555555555555');
  });

  it('BACKGROUND_JOB carries the status output as its body', () => {
    const ev = EslEvent.fromFrame(frames[6]!)!;
    assert.equal(ev.jobUuid, '11111111-2222-3333-4444-555555555555');
    assert.equal(ev.get('Job-Command'), 'status');
    assert.equal(ev.get('Job-Command-Arg'), undefined);
    assert.equal(ev.get('Event-Date-Local'), '2026-11-26 23:00:06');
    assert.equal(ev.get('Event-Date-GMT'), 'Thu, 26 Nov 2026 23:00:06 GMT');
    assert.equal(Buffer.byteLength(ev.body), 338);
    assert.ok(ev.body.startsWith('UP 0 years, 0 days, 0 hours, 1 minute, 44 seconds'));
    assert.ok(ev.body.includes('FreeSWITCH (Version 1.10.12-release  64bit) is ready\n'));
    assert.ok(ev.body.endsWith('Current Stack Size/Max 240K/8192K\n'));
  });

  it('the CUSTOM event carries the sendevent body inside its plain body', () => {
    const reply = frames[9]!.get('Reply-Text')!;
    const ev = EslEvent.fromFrame(frames[10]!)!;
    assert.equal(ev.name, 'CUSTOM');
    assert.equal(ev.subclass, 'test::demo');
    assert.equal(ev.get('Command'), 'sendevent CUSTOM');
    assert.equal(ev.get('Content-Type'), 'text/plain');
    assert.equal(reply, `+OK ${ev.get('Event-UUID')}`);
    assert.equal(ev.body, 'hello from misc_capture\nline two\n');
    assert.equal(Buffer.byteLength(ev.body), 33);
    // Two Content-Length lines: the client's own (first) and the serializer's (last).
    const all = [...ev.headers()].filter(([n]) => n === 'Content-Length');
    assert.deepEqual(all, [
      ['Content-Length', '33'],
      ['Content-Length', '33'],
    ]);
  });

  it('log/data headers and body', () => {
    const log = frames[15]!;
    assert.equal(log.contentType, 'log/data');
    assert.deepEqual(
      log.headers.map(([n]) => n),
      ['Content-Type', 'Content-Length', 'Log-Level', 'Text-Channel', 'Log-File', 'Log-Func', 'Log-Line', 'User-Data'],
    );
    assert.equal(log.get('Log-Level'), '6');
    assert.equal(log.get('Text-Channel'), '0');
    assert.equal(log.get('Log-File'), 'switch_time.c');
    assert.equal(log.get('Log-Func'), 'switch_load_timezones');
    assert.equal(log.get('Log-Line'), '1436');
    assert.equal(log.get('User-Data'), ''); // sent as "User-Data: " (empty, trailing space)
    assert.equal(log.body!.length, 94);
    assert.equal(
      log.bodyText,
      '2026-11-26 23:00:10.342094 16.13% [INFO] switch_time.c:1436 Timezone reloaded 597 definitions\n',
    );
  });

  it('ends with the disconnect notice', () => {
    const notice = frames[18]!;
    assert.equal(notice.contentType, 'text/disconnect-notice');
    assert.equal(notice.get('Content-Length'), '67');
    assert.equal(notice.bodyText, 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n');
    assert.equal(notice.get('Content-Disposition'), undefined);
  });
});

describe('fixtures: misc-badauth.bin', () => {
  it('auth/request, -ERR invalid, disconnect notice', () => {
    const frames = parseFrames(fixture('misc-badauth'));
    assert.deepEqual(
      frames.map((f) => f.contentType),
      ['auth/request', 'command/reply', 'text/disconnect-notice'],
    );
    assert.equal(frames[1]!.get('Reply-Text'), '-ERR invalid');
    assert.equal(frames[2]!.bodyText, 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n');
    assert.equal(frames[2]!.body!.length, 67);
  });
});

describe('fixtures: outbound.bin', () => {
  const frames = parseFrames(fixture('outbound'));
  const UUID = 'e472aa1c-5b16-424e-bca7-d4704076c0ff';

  it('the connect reply is one header block with URL-encoded values', () => {
    const connect = frames[0]!;
    assert.equal(connect.contentType, 'command/reply');
    assert.equal(connect.body, undefined);
    assert.equal(connect.get('Content-Length'), undefined);
    // Raw in the Frame ...
    assert.equal(connect.get('Reply-Text'), '%2BOK%0A');
    assert.equal(connect.get('Channel-Callee-ID-Name'), 'Outbound%20Call');
    // ... decoded by EslEvent.fromHeaders with `encoded`.
    const info = EslEvent.fromHeaders(connect.headers, undefined, { encoded: true });
    assert.equal(info.get('Reply-Text'), '+OK\n');
    assert.equal(info.get('Socket-Mode'), 'async');
    assert.equal(info.get('Control'), 'full');
    assert.equal(info.name, 'CHANNEL_DATA');
    assert.equal(info.uniqueId, UUID);
    assert.equal(info.channelName, 'loopback/7001-b');
    assert.equal(info.get('Channel-Callee-ID-Name'), 'Outbound Call');
    assert.equal(info.get('Event-Date-Local'), '2026-11-26 22:59:14');
    assert.equal(info.variable('direction'), 'inbound');
    assert.equal(info.variable('uuid'), UUID);
    assert.equal(info.variable('channel_name'), 'loopback/7001-b');
    const vars = [...info.headers()].filter(([n]) => n.startsWith('variable_'));
    assert.ok(vars.length > 10);
    for (const [n, v] of vars) assert.equal(info.get(n), v);
    // Content-Type, Reply-Text, Socket-Mode, Control close the block.
    assert.deepEqual(
      connect.headers.slice(-4).map(([n]) => n),
      ['Content-Type', 'Reply-Text', 'Socket-Mode', 'Control'],
    );
    assert.equal(connect.headers[0]![0], 'Event-Name');
  });

  it('replies, events and the linger notice in order', () => {
    const summary = frames.slice(1).map((f) => {
      if (f.contentType === 'command/reply') return `reply ${f.get('Reply-Text')}`;
      const ev = EslEvent.fromFrame(f);
      return ev ? `${ev.name}` : f.contentType;
    });
    assert.deepEqual(summary, [
      'reply +OK Events Enabled',
      'reply +OK will linger',
      'reply +OK',
      'CHANNEL_PROGRESS_MEDIA',
      'CHANNEL_EXECUTE',
      'CHANNEL_EXECUTE_COMPLETE',
      'CHANNEL_HANGUP',
      'text/disconnect-notice',
      'CHANNEL_UNPARK',
      'CHANNEL_EXECUTE_COMPLETE',
      'CHANNEL_STATE',
      'CHANNEL_STATE',
      'CHANNEL_HANGUP_COMPLETE',
    ]);
    const evs = events(frames);
    for (const e of evs) assert.equal(e.uniqueId, UUID);
    const [, exec, done, , , socketDone, cs1, cs2] = evs;
    assert.equal(exec!.application, 'playback');
    assert.equal(exec!.applicationData, 'tone_stream://%(500,0,440)');
    assert.equal(exec!.applicationUuid, 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee');
    assert.equal(done!.applicationUuid, 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee');
    assert.equal(done!.application, 'playback');
    assert.equal(socketDone!.application, 'socket');
    assert.equal(cs1!.channelState, 'CS_HANGUP');
    assert.equal(cs2!.channelState, 'CS_REPORTING');
    assert.ok(!evs.some((e) => e.name === 'CHANNEL_DESTROY'));
  });

  it('the linger notice', () => {
    const notice = frames.find((f) => f.contentType === 'text/disconnect-notice')!;
    assert.equal(notice.get('Content-Disposition'), 'linger');
    assert.equal(notice.get('Controlled-Session-UUID'), UUID);
    assert.equal(notice.get('Channel-Name'), 'loopback/7001-b');
    assert.equal(notice.get('Linger-Time'), '-1');
    assert.equal(notice.get('Content-Length'), '0');
    assert.equal(notice.body, undefined);
  });
});
