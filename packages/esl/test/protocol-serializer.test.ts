/**
 * Command serialization: every builder in `commands` produces exactly the bytes FreeSWITCH expects
 * (checked against the commands sent when the captures were made where there is one), bodies carry
 * a byte-counted Content-Length, and CR/LF can never reach the wire inside an argument, a header
 * name or a header value.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EslError, EslInvalidArgumentError } from '../src/errors.js';
import { Command, CommandReader, commands, serializeCommand, assertSingleLine } from '../src/protocol/index.js';

const UUID = 'e472aa1c-5b16-424e-bca7-d4704076c0ff';

function text(buf: Buffer): string {
  return buf.toString('utf8');
}

function readAll(buf: Buffer): Command[] {
  const out: Command[] = [];
  new CommandReader((c) => out.push(c)).push(buf);
  return out;
}

describe('commands: exact bytes', () => {
  const expected: Array<[string, () => Buffer, string]> = [
    ['auth', () => commands.auth('ClueCon'), 'auth ClueCon\n\n'],
    ['userauth', () => commands.userauth('1000@example.com', 's3cret'), 'userauth 1000@example.com:s3cret\n\n'],
    ['api', () => commands.api('status'), 'api status\n\n'],
    ['api with args', () => commands.api('originate {a=b}loopback/9999 &park'), 'api originate {a=b}loopback/9999 &park\n\n'],
    [
      'api with headers',
      () => commands.api('show channels', { console_execute: 'true' }),
      'api show channels\nconsole_execute: true\n\n',
    ],
    ['bgapi', () => commands.bgapi('status'), 'bgapi status\n\n'],
    [
      'bgapi with Job-UUID (misc transcript)',
      () => commands.bgapi('status', '11111111-2222-3333-4444-555555555555'),
      'bgapi status\nJob-UUID: 11111111-2222-3333-4444-555555555555\n\n',
    ],
    ['event plain ALL', () => commands.event('plain', ['ALL']), 'event plain ALL\n\n'],
    ['event json, several', () => commands.event('json', ['CHANNEL_CREATE', 'CHANNEL_ANSWER']), 'event json CHANNEL_CREATE CHANNEL_ANSWER\n\n'],
    [
      'event with CUSTOM (misc transcript; CUSTOM and subclasses go last)',
      () => commands.event('plain', ['CUSTOM', 'test::demo', 'BACKGROUND_JOB', 'CHANNEL_ANSWER']),
      'event plain BACKGROUND_JOB CHANNEL_ANSWER CUSTOM test::demo\n\n',
    ],
    [
      'event with a subclass only implies CUSTOM',
      () => commands.event('xml', ['sofia::register', 'HEARTBEAT']),
      'event xml HEARTBEAT CUSTOM sofia::register\n\n',
    ],
    ['event, names in one string', () => commands.event('plain', ['CHANNEL_CREATE CHANNEL_DESTROY']), 'event plain CHANNEL_CREATE CHANNEL_DESTROY\n\n'],
    ['myevents (outbound transcript)', () => commands.myevents(), 'myevents\n\n'],
    ['myevents json', () => commands.myevents('json'), 'myevents json\n\n'],
    ['myevents <uuid>', () => commands.myevents(undefined, UUID), `myevents ${UUID}\n\n`],
    ['myevents <uuid> plain', () => commands.myevents('plain', UUID), `myevents ${UUID} plain\n\n`],
    ['nixevent', () => commands.nixevent(['CHANNEL_ANSWER']), 'nixevent CHANNEL_ANSWER\n\n'],
    ['nixevent CUSTOM x', () => commands.nixevent(['CUSTOM', 'x::y']), 'nixevent CUSTOM x::y\n\n'],
    ['noevents', () => commands.noevents(), 'noevents\n\n'],
    ['filter (misc transcript)', () => commands.filter('Unique-ID', 'x'), 'filter Unique-ID x\n\n'],
    ['filter with spaces in the value', () => commands.filter('Caller-Caller-ID-Name', 'Jürgen Ünal'), 'filter Caller-Caller-ID-Name Jürgen Ünal\n\n'],
    ['filter delete (misc transcript)', () => commands.filterDelete('Unique-ID', 'x'), 'filter delete Unique-ID x\n\n'],
    ['filter delete <header>', () => commands.filterDelete('Unique-ID'), 'filter delete Unique-ID\n\n'],
    ['filter delete all', () => commands.filterDelete('all'), 'filter delete all\n\n'],
    ['divert_events on', () => commands.divertEvents(true), 'divert_events on\n\n'],
    ['divert_events off', () => commands.divertEvents(false), 'divert_events off\n\n'],
    [
      'sendevent with body (misc transcript)',
      () =>
        commands.sendevent(
          'CUSTOM',
          [
            ['Event-Subclass', 'test::demo'],
            ['Content-Type', 'text/plain'],
          ],
          'hello from misc_capture\nline two\n',
        ),
      'sendevent CUSTOM\nEvent-Subclass: test::demo\nContent-Type: text/plain\nContent-Length: 33\n\nhello from misc_capture\nline two\n',
    ],
    ['sendevent without body', () => commands.sendevent('HEARTBEAT', { 'Event-Info': 'x y' }), 'sendevent HEARTBEAT\nEvent-Info: x y\n\n'],
    [
      'sendmsg',
      () => commands.sendmsg(UUID, { 'call-command': 'hangup', 'hangup-cause': 'USER_BUSY' }),
      `sendmsg ${UUID}\ncall-command: hangup\nhangup-cause: USER_BUSY\n\n`,
    ],
    ['sendmsg without uuid', () => commands.sendmsg(undefined, { 'call-command': 'nomedia' }), 'sendmsg\ncall-command: nomedia\n\n'],
    [
      'execute (outbound transcript)',
      () => commands.execute(undefined, 'playback', 'tone_stream://%(500,0,440)', { eventUuid: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee' }),
      'sendmsg\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: tone_stream://%(500,0,440)\nEvent-UUID: aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\n\n',
    ],
    [
      'execute with every option',
      () => commands.execute(UUID, 'playback', 'a.wav', { eventUuid: 'e', eventLock: true, async: true, loops: 3, holdBleg: true }),
      `sendmsg ${UUID}\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: a.wav\nEvent-UUID: e\n` +
        'event-lock: true\nasync: true\nloops: 3\nhold-bleg: true\n\n',
    ],
    ['execute without argument', () => commands.execute(UUID, 'answer'), `sendmsg ${UUID}\ncall-command: execute\nexecute-app-name: answer\n\n`],
    [
      'execute with a multi-line argument goes in a text/plain body',
      () => commands.execute(UUID, 'set', 'x=Zoë\nline2'),
      `sendmsg ${UUID}\ncall-command: execute\nexecute-app-name: set\ncontent-type: text/plain\nContent-Length: 12\n\nx=Zoë\nline2`,
    ],
    ['hangup', () => commands.hangup(UUID), `sendmsg ${UUID}\ncall-command: hangup\n\n`],
    ['hangup with cause', () => commands.hangup(UUID, 'NORMAL_CLEARING'), `sendmsg ${UUID}\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING\n\n`],
    ['log', () => commands.log(), 'log\n\n'],
    ['log 7 (misc transcript)', () => commands.log(7), 'log 7\n\n'],
    ['log DEBUG', () => commands.log('DEBUG'), 'log DEBUG\n\n'],
    ['nolog', () => commands.nolog(), 'nolog\n\n'],
    ['linger (outbound transcript)', () => commands.linger(), 'linger\n\n'],
    ['linger 10', () => commands.linger(10), 'linger 10\n\n'],
    ['nolinger', () => commands.nolinger(), 'nolinger\n\n'],
    ['resume', () => commands.resume(), 'resume\n\n'],
    ['connect (outbound transcript)', () => commands.connect(), 'connect\n\n'],
    ['getvar', () => commands.getvar('sip_call_id'), 'getvar sip_call_id\n\n'],
    ['exit', () => commands.exit(), 'exit\n\n'],
  ];

  for (const [name, build, bytes] of expected) {
    it(name, () => {
      const out = build();
      assert.ok(Buffer.isBuffer(out));
      assert.equal(text(out), bytes);
      // And FreeSWITCH's way of reading it gives one command back.
      const read = readAll(out);
      assert.equal(read.length, 1);
      assert.equal(read[0]!.line, bytes.slice(0, bytes.indexOf('\n')));
    });
  }

  it('every builder in `commands` is covered above', () => {
    const covered = new Set(expected.map(([, build]) => /commands\.(\w+)/.exec(build.toString())?.[1]));
    assert.deepEqual(
      Object.keys(commands).filter((k) => !covered.has(k)),
      [],
    );
  });
});

describe('serializeCommand', () => {
  it('bodies carry Content-Length in bytes, strings and Buffers alike', () => {
    const body = 'Größe 😀';
    const out = serializeCommand('sendevent CUSTOM', { 'Event-Subclass': 'a::b' }, body);
    const n = Buffer.byteLength(body);
    assert.equal(text(out), `sendevent CUSTOM\nEvent-Subclass: a::b\nContent-Length: ${n}\n\n${body}`);
    const bin = Buffer.from([0x00, 0xff, 0x0a, 0x0a, 0x41]);
    const out2 = serializeCommand('sendevent CUSTOM', undefined, bin);
    assert.deepEqual(out2, Buffer.concat([Buffer.from('sendevent CUSTOM\nContent-Length: 5\n\n'), bin]));
    const [cmd] = readAll(out2);
    assert.deepEqual(cmd!.body, bin);
  });

  it('an empty body sends no Content-Length', () => {
    assert.equal(text(serializeCommand('sendevent CUSTOM', undefined, '')), 'sendevent CUSTOM\n\n');
    assert.equal(text(serializeCommand('sendevent CUSTOM', undefined, Buffer.alloc(0))), 'sendevent CUSTOM\n\n');
  });

  it('a caller-given Content-Length never reaches the wire; the real one is used', () => {
    const withBody = serializeCommand('sendevent CUSTOM', [['content-length', '999'], ['X', 'y']], 'abc');
    assert.equal(text(withBody), 'sendevent CUSTOM\nX: y\nContent-Length: 3\n\nabc');
    // Without a body it would make FreeSWITCH wait for bytes that never come (and eat the next
    // command as the body), so it is dropped too.
    for (const body of [undefined, '']) {
      const out = serializeCommand('sendevent CUSTOM', { 'Content-Length': 5, X: 'y' }, body);
      assert.equal(text(out), 'sendevent CUSTOM\nX: y\n\n');
      const read = readAll(Buffer.concat([out, commands.exit()]));
      assert.deepEqual(
        read.map((c) => c.line),
        ['sendevent CUSTOM', 'exit'],
      );
    }
  });

  it('header values: numbers and booleans are written as text; undefined entries are skipped', () => {
    assert.equal(
      text(serializeCommand('sendmsg', { loops: 3, 'event-lock': true, skipped: undefined, 'x-y': 'a: b' })),
      'sendmsg\nloops: 3\nevent-lock: true\nx-y: a: b\n\n',
    );
    assert.equal(
      text(
        serializeCommand('sendmsg', [
          ['dup', '1'],
          ['dup', '2'],
        ]),
      ),
      'sendmsg\ndup: 1\ndup: 2\n\n',
    );
  });

  it('refuses an empty command and bad header names', () => {
    for (const cmd of ['', '   ']) assert.throws(() => serializeCommand(cmd), isInvalidArgument);
    for (const name of ['', 'a:b', ' lead', 'trail ', 'tab\t']) {
      assert.throws(() => serializeCommand('sendmsg', [[name, 'v']]), isInvalidArgument, JSON.stringify(name));
    }
  });
});

function isInvalidArgument(err: unknown): boolean {
  return err instanceof EslInvalidArgumentError && err instanceof EslError && err.code === 'ESL_INVALID_ARGUMENT';
}

describe('injection guard: CR or LF in any string that goes on a line', () => {
  const breaks = ['\n', '\r', '\r\n', 'x\nexit\n\n', 'x\rapi status'];

  /** Each builder, called with the bad text in one of its string parameters. */
  const builders: Array<[string, (bad: string) => Buffer]> = [
    ['auth(password)', (s) => commands.auth(s)],
    ['userauth(user)', (s) => commands.userauth(s, 'pw')],
    ['userauth(password)', (s) => commands.userauth('u@d', s)],
    ['api(command)', (s) => commands.api(s)],
    ['api(header name)', (s) => commands.api('status', [[s, 'v']])],
    ['api(header value)', (s) => commands.api('status', { h: s })],
    ['bgapi(command)', (s) => commands.bgapi(s)],
    ['bgapi(jobUuid)', (s) => commands.bgapi('status', s)],
    ['event(names)', (s) => commands.event('plain', ['CHANNEL_ANSWER', s])],
    ['event(name with a line break inside)', (s) => commands.event('plain', [`CHANNEL_ANSWER${s}CHANNEL_HANGUP`])],
    ['event(format)', (s) => commands.event(s as 'plain', ['ALL'])],
    ['myevents(uuid)', (s) => commands.myevents(undefined, s)],
    ['myevents(format)', (s) => commands.myevents(s as 'json')],
    ['nixevent(names)', (s) => commands.nixevent([`CHANNEL_ANSWER${s}`])],
    ['filter(header)', (s) => commands.filter(s, 'x')],
    ['filter(value)', (s) => commands.filter('Unique-ID', s)],
    ['filterDelete(header)', (s) => commands.filterDelete(s)],
    ['filterDelete(value)', (s) => commands.filterDelete('Unique-ID', s)],
    ['sendevent(name)', (s) => commands.sendevent(s)],
    ['sendevent(header name)', (s) => commands.sendevent('CUSTOM', [[s, 'v']])],
    ['sendevent(header value)', (s) => commands.sendevent('CUSTOM', { h: s }, 'body may have\nline breaks')],
    ['sendmsg(uuid)', (s) => commands.sendmsg(s, { 'call-command': 'hangup' })],
    ['sendmsg(header name)', (s) => commands.sendmsg(UUID, [[s, 'v']])],
    ['sendmsg(header value)', (s) => commands.sendmsg(UUID, { 'call-command': s })],
    ['execute(uuid)', (s) => commands.execute(s, 'answer')],
    ['execute(app)', (s) => commands.execute(UUID, s)],
    ['execute(eventUuid)', (s) => commands.execute(UUID, 'answer', undefined, { eventUuid: s })],
    ['hangup(uuid)', (s) => commands.hangup(s)],
    ['hangup(cause)', (s) => commands.hangup(UUID, s)],
    ['log(level)', (s) => commands.log(s as 'DEBUG')],
    ['getvar(name)', (s) => commands.getvar(s)],
    ['serializeCommand(command)', (s) => serializeCommand(`api ${s}`)],
    ['serializeCommand(header name)', (s) => serializeCommand('sendmsg', [[`a${s}b`, 'v']])],
    ['serializeCommand(header value)', (s) => serializeCommand('sendmsg', [['a', `v${s}w`]])],
  ];

  for (const [name, build] of builders) {
    it(name, () => {
      for (const bad of breaks) {
        assert.throws(() => build(bad), isInvalidArgument, `${name} with ${JSON.stringify(bad)}`);
      }
      // The same call with harmless text works, so the refusal is about the line break.
      assert.ok(Buffer.isBuffer(build('x')));
    });
  }

  it('assertSingleLine', () => {
    assert.doesNotThrow(() => assertSingleLine('x', 'no breaks: here\t\u2028'));
    assert.throws(() => assertSingleLine('x', 'a\nb'), isInvalidArgument);
    assert.throws(() => assertSingleLine('x', 'a\rb'), isInvalidArgument);
  });

  it('a multi-line execute argument is sent as a body, never as a header', () => {
    const out = commands.execute(UUID, 'set', 'a\r\nexit\n\n');
    const [cmd, ...rest] = readAll(out);
    assert.equal(rest.length, 0);
    assert.equal(cmd!.get('execute-app-arg'), undefined);
    assert.equal(cmd!.get('content-type'), 'text/plain');
    assert.equal(cmd!.bodyText, 'a\r\nexit\n\n');
  });
});
