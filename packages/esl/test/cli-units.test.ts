import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  parseCliArgs,
  parseDuration,
  parseFilterArg,
  parseHostPort,
  parseLogLevel,
  UsageError,
  type MainArgs,
} from '../src/cli/args.js';
import { envLayer, resolveSettings, type Environment } from '../src/cli/config.js';
import {
  apiResultToJson,
  eventToJson,
  formatEventCompact,
  formatEventFull,
  formatLogRecord,
  logRecordToJson,
  makeColors,
  shouldUseColor,
  stripAnsi,
} from '../src/cli/format.js';
import { consoleHelp, parseConsoleLine } from '../src/cli/console-commands.js';
import { createCompleter, parseShowApi } from '../src/cli/completion.js';
import { describeError, ExitCode, systemErrorCode } from '../src/cli/exit-codes.js';
import {
  EslAccessDeniedError,
  EslAuthError,
  EslCommandError,
  EslConnectError,
  EslConnectionClosedError,
  EslTimeoutError,
  EslInvalidArgumentError,
} from '../src/errors.js';
import { EslEvent } from '../src/protocol/event.js';
import type { LogRecord } from '../src/transport/connection.js';

function main(argv: string[]): MainArgs {
  const a = parseCliArgs(argv);
  assert.equal(a.mode, 'main');
  return a as MainArgs;
}

test('args: fs_cli short options', () => {
  const a = main(['-H', 'pbx', '-P', '8022', '-p', 'secret', '-u', '1000@default', '-x', 'status', '-x', 'show channels', '-t', '5000', '-T', '2s', '-r', '-R', '-d', 'info', '-b']);
  assert.equal(a.host, 'pbx');
  assert.equal(a.port, 8022);
  assert.equal(a.password, 'secret');
  assert.equal(a.user, '1000@default');
  assert.deepEqual(a.execute, ['status', 'show channels']);
  assert.equal(a.timeout, 5000);
  assert.equal(a.connectTimeout, 2000);
  assert.equal(a.retry, true);
  assert.equal(a.reconnect, true);
  assert.equal(a.logLevel, 6);
  assert.equal(a.batch, true);
  assert.equal(a.format, 'plain');
});

test('args: long options, events, format and json', () => {
  const a = main(['--host=h', '--port', '1', '--events', 'CHANNEL_ANSWER CHANNEL_HANGUP', '-e', 'CUSTOM,sofia::register', '--format', 'json', '--full', '--filter', 'Unique-ID abc', '--filter', 'Caller-Destination-Number=9999']);
  assert.deepEqual(a.events, ['CHANNEL_ANSWER', 'CHANNEL_HANGUP', 'CUSTOM', 'sofia::register']);
  assert.equal(a.format, 'json');
  assert.equal(a.full, true);
  assert.deepEqual(a.filters, [['Unique-ID', 'abc'], ['Caller-Destination-Number', '9999']]);
  assert.equal(main(['--json']).format, 'json');
  assert.equal(main(['--json']).json, true);
  assert.equal(main(['prod']).profile, 'prod');
  assert.equal(main(['-n']).color, false);
  assert.equal(main(['--color']).color, true);
  assert.equal(main(['--no-history']).history, false);
});

test('args: help, version, simulate', () => {
  assert.deepEqual(parseCliArgs(['--help']), { mode: 'help', topic: 'main' });
  assert.deepEqual(parseCliArgs(['-h']), { mode: 'help', topic: 'main' });
  assert.deepEqual(parseCliArgs(['--version']), { mode: 'version' });
  assert.deepEqual(parseCliArgs(['simulate', '--help']), { mode: 'help', topic: 'simulate' });
  const s = parseCliArgs(['simulate', '--port', '0', '--outbound', '127.0.0.1:8084', '--calls', '3', '--hangup-after', '1s']);
  assert.equal(s.mode, 'simulate');
  if (s.mode !== 'simulate') return;
  assert.equal(s.port, 0);
  assert.deepEqual(s.outbound, { host: '127.0.0.1', port: 8084 });
  assert.equal(s.calls, 3);
  assert.equal(s.hangupAfter, 1000);
  const d = parseCliArgs(['simulate']);
  assert.ok(d.mode === 'simulate' && d.port === 8021 && d.host === '127.0.0.1' && d.calls === 0);
});

test('args: mistakes are UsageErrors with one-line messages', () => {
  const bad: string[][] = [
    ['--bogus'],
    ['-P', 'abc'],
    ['-P', '0'],
    ['-P', '70000'],
    ['-t', 'soon'],
    ['-d', 'loud'],
    ['--format', 'xml'],
    ['-x'],
    ['-x', '  '],
    ['-x', 'status\r\nexit'],
    ['-x', 'status', '-x', 'version\nauth x'],
    ['-x', 'status', '--events', 'ALL'],
    ['a', 'b'],
    ['--color', '--no-color'],
    ['--filter', 'novalue'],
    ['simulate', '--calls', '2'],
    ['simulate', '--outbound', 'host:'],
    ['simulate', 'extra'],
  ];
  for (const argv of bad) {
    assert.throws(() => parseCliArgs(argv), (err: unknown) => {
      assert.ok(err instanceof UsageError, `${argv.join(' ')}: ${String(err)}`);
      assert.ok(!err.message.includes('\n'), `one line for ${argv.join(' ')}: ${err.message}`);
      return true;
    });
  }
});

test('args: value parsers', () => {
  assert.equal(parseDuration('t', '250'), 250);
  assert.equal(parseDuration('t', '250ms'), 250);
  assert.equal(parseDuration('t', '1.5s'), 1500);
  assert.equal(parseDuration('t', '2m'), 120000);
  assert.equal(parseDuration('t', 0), 0);
  assert.throws(() => parseDuration('t', '-1'), UsageError);
  assert.equal(parseLogLevel('DEBUG'), 7);
  assert.equal(parseLogLevel('err'), 3);
  assert.equal(parseLogLevel('warning'), 4);
  assert.equal(parseLogLevel('0'), 0);
  assert.throws(() => parseLogLevel('8'), UsageError);
  assert.deepEqual(parseHostPort('o', '8084'), { host: '127.0.0.1', port: 8084 });
  assert.deepEqual(parseHostPort('o', ':8084'), { host: '127.0.0.1', port: 8084 });
  assert.deepEqual(parseHostPort('o', 'app.local:9000'), { host: 'app.local', port: 9000 });
  assert.deepEqual(parseHostPort('o', '[::1]:9000'), { host: '::1', port: 9000 });
  assert.deepEqual(parseFilterArg('Event-Name CHANNEL_ANSWER'), ['Event-Name', 'CHANNEL_ANSWER']);
  assert.deepEqual(parseFilterArg('Caller-Caller-ID-Name=John Smith'), ['Caller-Caller-ID-Name', 'John Smith']);
});

function fakeEnv(files: Record<string, string>, env: Record<string, string> = {}): Environment {
  return { env, cwd: '/srv/project', home: '/home/u', readFile: (p) => files[p] };
}

test('settings: defaults are FreeSWITCH defaults', () => {
  const s = resolveSettings({}, fakeEnv({}));
  assert.equal(s.host, '127.0.0.1');
  assert.equal(s.port, 8021);
  assert.equal(s.password, 'ClueCon');
  assert.equal(s.user, undefined);
  assert.equal(s.timeout, undefined);
  assert.equal(s.connectTimeout, 10000);
  assert.equal(s.historyFile, join('/home/u', '.fs_esl_history'));
  assert.deepEqual(s.sources, { host: 'default', port: 'default', password: 'default', user: 'default', timeout: 'default', connectTimeout: 'default' });
});

test('settings: flags > env > config file > defaults', () => {
  const files = { '/home/u/.config/fs-esl/config.json': JSON.stringify({ host: 'cfg-host', port: 9001, password: 'cfg', user: 'cfguser@d', timeout: '3s' }) };
  const env = { FS_ESL_HOST: 'env-host', FS_ESL_PORT: '9002' };
  const s = resolveSettings({ host: 'flag-host' }, fakeEnv(files, env));
  assert.equal(s.host, 'flag-host');
  assert.equal(s.port, 9002);
  assert.equal(s.password, 'cfg');
  assert.equal(s.user, 'cfguser@d');
  assert.equal(s.timeout, 3000);
  assert.equal(s.configPath, '/home/u/.config/fs-esl/config.json');
  assert.deepEqual(s.sources, { host: 'flag', port: 'env', password: 'config', user: 'config', timeout: 'config', connectTimeout: 'default' });
});

test('settings: ./.fs-esl.json before ~/.config; XDG_CONFIG_HOME; --config and FS_ESL_CONFIG', () => {
  const files = {
    '/srv/project/.fs-esl.json': '{"host":"local"}',
    '/home/u/.config/fs-esl/config.json': '{"host":"home"}',
    '/xdg/fs-esl/config.json': '{"host":"xdg"}',
    '/srv/project/custom.json': '{"host":"custom"}',
    '/etc/other.json': '{"host":"other"}',
  };
  assert.equal(resolveSettings({}, fakeEnv(files)).host, 'local');
  const { ['/srv/project/.fs-esl.json']: _, ...noLocal } = files;
  assert.equal(resolveSettings({}, fakeEnv(noLocal)).host, 'home');
  assert.equal(resolveSettings({}, fakeEnv(noLocal, { XDG_CONFIG_HOME: '/xdg' })).host, 'xdg');
  assert.equal(resolveSettings({ config: 'custom.json' }, fakeEnv(files)).host, 'custom');
  assert.equal(resolveSettings({}, fakeEnv(files, { FS_ESL_CONFIG: '/etc/other.json' })).host, 'other');
  assert.throws(() => resolveSettings({ config: 'missing.json' }, fakeEnv(files)), /config file not found: \/srv\/project\/missing.json/);
});

test('settings: profiles override the top level of the config file', () => {
  const files = { '/srv/project/.fs-esl.json': JSON.stringify({ host: 'a', password: 'top', profiles: { lab: { host: 'lab-host', port: 8030 } } }) };
  const s = resolveSettings({ profile: 'lab' }, fakeEnv(files));
  assert.equal(s.host, 'lab-host');
  assert.equal(s.port, 8030);
  assert.equal(s.password, 'top');
  assert.throws(() => resolveSettings({ profile: 'nope' }, fakeEnv(files)), /no profile "nope".*profiles: lab/);
  assert.throws(() => resolveSettings({ profile: 'lab' }, fakeEnv({})), /no config file was found/);
});

test('settings: invalid config and env values are usage errors naming the culprit', () => {
  assert.throws(() => resolveSettings({}, fakeEnv({ '/srv/project/.fs-esl.json': '{host:' })), (e: unknown) => e instanceof UsageError && /not valid JSON/.test(e.message));
  assert.throws(() => resolveSettings({}, fakeEnv({ '/srv/project/.fs-esl.json': '{"hots":"x"}' })), /unknown setting "hots"/);
  assert.throws(() => resolveSettings({}, fakeEnv({ '/srv/project/.fs-esl.json': '{"port":"x"}' })), /"port" in \/srv\/project\/.fs-esl.json/);
  assert.throws(() => resolveSettings({}, fakeEnv({ '/srv/project/.fs-esl.json': '[1]' })), /must hold a JSON object/);
  assert.throws(() => resolveSettings({}, fakeEnv({}, { FS_ESL_PORT: 'eighty' })), /FS_ESL_PORT/);
  assert.throws(() => resolveSettings({}, fakeEnv({}, { FS_ESL_TIMEOUT: 'never' })), /FS_ESL_TIMEOUT/);
});

test('settings: env layer, empty variables, password kept verbatim, history', () => {
  const l = envLayer(fakeEnv({}, { FS_ESL_HOST: '', FS_ESL_PASSWORD: ' sp ace ', FS_ESL_USER: 'u@d', FS_ESL_LOG_LEVEL: 'notice', FS_ESL_CONNECT_TIMEOUT: '1s' }));
  assert.equal(l.host, undefined);
  assert.equal(l.password, ' sp ace ');
  assert.equal(l.user, 'u@d');
  assert.equal(l.logLevel, 5);
  assert.equal(l.connectTimeout, 1000);
  assert.equal(resolveSettings({}, fakeEnv({}, { FS_ESL_HISTORY: 'off' })).historyFile, undefined);
  assert.equal(resolveSettings({}, fakeEnv({}, { FS_ESL_HISTORY: '~/h.txt' })).historyFile, join('/home/u', 'h.txt'));
  assert.equal(resolveSettings({ history: false }, fakeEnv({}, { FS_ESL_HISTORY: '~/h.txt' })).historyFile, undefined);
  assert.equal(resolveSettings({}, fakeEnv({ '/srv/project/.fs-esl.json': '{"history":false}' })).historyFile, undefined);
  assert.equal(resolveSettings({ timeout: 0 }, fakeEnv({})).timeout, undefined, '0 means no limit');
});

test('colour: NO_COLOR, TTY, FORCE_COLOR and explicit flags', () => {
  assert.equal(shouldUseColor(undefined, true, {}), true);
  assert.equal(shouldUseColor(undefined, false, {}), false);
  assert.equal(shouldUseColor(undefined, true, { NO_COLOR: '1' }), false);
  assert.equal(shouldUseColor(undefined, true, { NO_COLOR: '' }), true);
  assert.equal(shouldUseColor(undefined, false, { FORCE_COLOR: '1' }), true);
  assert.equal(shouldUseColor(undefined, true, { TERM: 'dumb' }), false);
  assert.equal(shouldUseColor(true, false, { NO_COLOR: '1' }), true);
  assert.equal(shouldUseColor(false, true, {}), false);
  assert.equal(makeColors(false).red('x'), 'x');
  assert.equal(makeColors(true).red('x'), '\u001b[31mx\u001b[39m');
  assert.equal(stripAnsi(makeColors(true).bold(makeColors(true).cyan('x'))), 'x');
});

function logRecord(level: number, text: string): LogRecord {
  return { level, levelName: ['CONSOLE', 'ALERT', 'CRIT', 'ERR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG'][level]!, channel: 0, file: 'switch_time.c', func: 'f', line: 1436, userData: '', text };
}

test('log lines: coloured by level like fs_cli, plain without colour, JSON form', () => {
  const c = makeColors(true);
  const text = '2026-11-26 23:00:10.342094 16.13% [INFO] switch_time.c:1436 Timezone reloaded 597 definitions\n';
  assert.equal(formatLogRecord(logRecord(6, text), makeColors(false)), text.trimEnd());
  assert.equal(formatLogRecord(logRecord(6, text), c), `\u001b[32m${text.trimEnd()}\u001b[39m`);
  assert.match(formatLogRecord(logRecord(3, 'x'), c), /^\u001b\[31m/);
  assert.match(formatLogRecord(logRecord(4, 'x'), c), /^\u001b\[35m/);
  assert.match(formatLogRecord(logRecord(5, 'x'), c), /^\u001b\[36m/);
  assert.match(formatLogRecord(logRecord(7, 'x'), c), /^\u001b\[33m/);
  assert.equal(formatLogRecord(logRecord(0, 'x'), c), 'x');
  const j = JSON.parse(logRecordToJson(logRecord(6, text)));
  assert.deepEqual(j, { type: 'log', level: 6, levelName: 'INFO', channel: 0, file: 'switch_time.c', func: 'f', line: 1436, text: text.trimEnd() });
});

const answerEvent = EslEvent.fromPlain(
  Buffer.from(
    [
      'Event-Name: CHANNEL_ANSWER',
      'Event-Date-Local: 2026-11-26%2023%3A00%3A06',
      'Unique-ID: 5f3a0c8e-1111-2222-3333-444455556666',
      'Channel-Name: loopback/9999-a',
      'Caller-Caller-ID-Number: 1000',
      'Caller-Destination-Number: 9999',
      'Caller-Caller-ID-Name: J%C3%BCrgen%20%C3%9Cnal',
      'Answer-State: answered',
      'Channel-Call-State: ACTIVE',
      '',
      '',
    ].join('\n'),
  ),
);

test('events: compact line, full form and JSON', () => {
  const line = formatEventCompact(answerEvent, makeColors(false));
  assert.equal(line, '23:00:06 CHANNEL_ANSWER uuid=5f3a0c8e-1111-2222-3333-444455556666 channel=loopback/9999-a from=1000 to=9999 callstate=ACTIVE answer=answered');
  const coloured = formatEventCompact(answerEvent, makeColors(true));
  assert.notEqual(coloured, line);
  assert.equal(stripAnsi(coloured), line);

  const full = formatEventFull(answerEvent, makeColors(false));
  assert.match(full, /^\[EVENT CHANNEL_ANSWER\]\n/);
  assert.match(full, /\nCaller-Caller-ID-Name: Jürgen Ünal\n/);

  const j = JSON.parse(eventToJson(answerEvent));
  assert.equal(j.type, 'event');
  assert.equal(j.name, 'CHANNEL_ANSWER');
  assert.equal(j.headers['Caller-Caller-ID-Name'], 'Jürgen Ünal');
  assert.equal(j.body, undefined);
});

test('events: CUSTOM subclass and a body', () => {
  const job = EslEvent.fromHeaders({ 'Event-Name': 'BACKGROUND_JOB', 'Job-UUID': 'j1', 'Job-Command': 'status' }, 'UP 0 years\nFreeSWITCH is ready\n');
  assert.match(formatEventCompact(job, makeColors(false)), / BACKGROUND_JOB job=j1 command=status body="UP 0 years \(\+1 lines\)"$/);
  assert.match(formatEventFull(job, makeColors(false)), /Job-Command: status\n\nUP 0 years\nFreeSWITCH is ready\n$/);
  assert.equal(JSON.parse(eventToJson(job)).body, 'UP 0 years\nFreeSWITCH is ready\n');
  const custom = EslEvent.fromHeaders({ 'Event-Name': 'CUSTOM', 'Event-Subclass': 'sofia::register' });
  assert.match(formatEventCompact(custom, makeColors(false)), / CUSTOM sofia::register$/);
  assert.equal(JSON.parse(eventToJson(custom)).subclass, 'sofia::register');
  assert.deepEqual(JSON.parse(apiResultToJson({ command: 'status', ok: true, body: 'UP' })), { type: 'api', command: 'status', ok: true, body: 'UP' });
});

test('console lines: slash commands, api commands, exits', () => {
  assert.deepEqual(parseConsoleLine('   '), { kind: 'empty' });
  assert.deepEqual(parseConsoleLine('status'), { kind: 'api', command: 'status' });
  assert.deepEqual(parseConsoleLine('  show channels  '), { kind: 'api', command: 'show channels' });
  for (const w of ['/exit', '/quit', '/bye', '...', '/EXIT', 'exit', 'quit']) assert.deepEqual(parseConsoleLine(w), { kind: 'exit' }, w);
  assert.deepEqual(parseConsoleLine('/help'), { kind: 'help' });
  assert.deepEqual(parseConsoleLine('/event plain ALL'), { kind: 'event', format: 'plain', names: ['ALL'] });
  assert.deepEqual(parseConsoleLine('/event json CHANNEL_ANSWER CUSTOM sofia::register'), { kind: 'event', format: 'json', names: ['CHANNEL_ANSWER', 'CUSTOM', 'sofia::register'] });
  assert.deepEqual(parseConsoleLine('/event CHANNEL_HANGUP'), { kind: 'event', format: 'plain', names: ['CHANNEL_HANGUP'] });
  assert.deepEqual(parseConsoleLine('/nixevent CHANNEL_HANGUP'), { kind: 'nixevent', names: ['CHANNEL_HANGUP'] });
  assert.deepEqual(parseConsoleLine('/noevents'), { kind: 'noevents' });
  assert.deepEqual(parseConsoleLine('/filter Caller-Caller-ID-Name John Smith'), { kind: 'filter', header: 'Caller-Caller-ID-Name', value: 'John Smith' });
  assert.deepEqual(parseConsoleLine('/filter add Unique-ID abc'), { kind: 'filter', header: 'Unique-ID', value: 'abc' });
  assert.deepEqual(parseConsoleLine('/filter delete Unique-ID abc'), { kind: 'filterDelete', header: 'Unique-ID', value: 'abc' });
  assert.deepEqual(parseConsoleLine('/filter delete Unique-ID'), { kind: 'filterDelete', header: 'Unique-ID' });
  assert.deepEqual(parseConsoleLine('/log'), { kind: 'log', level: 7 });
  assert.deepEqual(parseConsoleLine('/log WARNING'), { kind: 'log', level: 4 });
  assert.deepEqual(parseConsoleLine('/log 3'), { kind: 'log', level: 3 });
  assert.deepEqual(parseConsoleLine('console loglevel info'), { kind: 'log', level: 6 });
  assert.deepEqual(parseConsoleLine('/nolog'), { kind: 'nolog' });
  assert.deepEqual(parseConsoleLine('/bgapi status'), { kind: 'bgapi', command: 'status' });
  assert.deepEqual(parseConsoleLine('/full on'), { kind: 'full', on: true });
  assert.deepEqual(parseConsoleLine('/full off'), { kind: 'full', on: false });
  assert.deepEqual(parseConsoleLine('/full'), { kind: 'full' });
  for (const bad of ['/event', '/event json', '/filter', '/filter Unique-ID', '/filter delete', '/log loud', '/bgapi', '/full maybe', '/frobnicate', '/nolog x']) {
    const a = parseConsoleLine(bad);
    assert.equal(a.kind, 'invalid', bad);
  }
  assert.match(consoleHelp(), /\/event \[plain\|json\|xml\] NAME/);
});

test('completion: slash commands, api names from the server, event names, levels, show topics', () => {
  let names: string[] = [];
  const complete = createCompleter(() => names);
  assert.deepEqual(complete('/e'), [['/event', '/exit'], '/e']);
  assert.deepEqual(complete('/no'), [['/noevents', '/nolog'], '/no']);
  assert.deepEqual(complete('relo')[0], ['reload', 'reloadacl', 'reloadxml']);
  assert.deepEqual(complete('my_cus'), [[], 'my_cus']);
  names = ['my_custom_api', 'status'];
  assert.deepEqual(complete('my_cus'), [['my_custom_api'], 'my_cus']);
  assert.deepEqual(complete('/log de'), [['debug'], 'de']);
  assert.deepEqual(complete('/event CHANNEL_ANS'), [['CHANNEL_ANSWER'], 'CHANNEL_ANS']);
  assert.deepEqual(complete('/event channel_ans'), [['channel_answer'], 'channel_ans']);
  assert.deepEqual(complete('/event js'), [['json'], 'js']);
  assert.deepEqual(complete('/full o'), [['off', 'on'], 'o']);
  assert.deepEqual(complete('show chan'), [['channels'], 'chan']);
  assert.deepEqual(complete('/bgapi sta'), [['status'], 'sta']);
});

test('completion: parses the CSV of `show api`', () => {
  const body = 'name,description,syntax,ikey\nacl,Compare an ip to an acl list,<ip> <list_name>,mod_commands\nstatus,Show current status,,mod_commands\nuuid_kill,Kill channel, with a comma,<uuid> [cause],mod_commands\n\n3 total.\n';
  assert.deepEqual(parseShowApi(body), ['acl', 'status', 'uuid_kill']);
  assert.deepEqual(parseShowApi('-ERR show Command not found!\n'), []);
});

test('errors: exit codes and messages without stack traces', () => {
  const refused = new EslConnectError('connect ECONNREFUSED 127.0.0.1:1', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
  assert.equal(systemErrorCode(refused), 'ECONNREFUSED');
  const d = describeError(refused, '127.0.0.1:1');
  assert.equal(d.exitCode, ExitCode.CONNECT_FAILED);
  assert.match(d.message, /^cannot connect to 127\.0\.0\.1:1: connection refused/);
  assert.equal(describeError(new EslAuthError('-ERR invalid'), 'h:1').exitCode, ExitCode.AUTH_FAILED);
  assert.match(describeError(new EslAuthError('-ERR invalid'), 'h:1').message, /authentication failed at h:1: -ERR invalid/);
  assert.equal(describeError(new EslAccessDeniedError('Access Denied, go away.')).exitCode, ExitCode.AUTH_FAILED);
  const cmd = describeError(new EslCommandError('api nosuch', '-ERR nosuch Command not found!\n'));
  assert.deepEqual([cmd.exitCode, cmd.message], [ExitCode.COMMAND_FAILED, '-ERR nosuch Command not found!']);
  assert.equal(describeError(new EslTimeoutError('no reply')).exitCode, ExitCode.TIMEOUT);
  assert.equal(describeError(new EslConnectionClosedError()).exitCode, ExitCode.CONNECTION_LOST);
  assert.equal(describeError(new UsageError('bad')).exitCode, ExitCode.USAGE);
  assert.equal(describeError(new EslInvalidArgumentError('command must not contain CR or LF')).exitCode, ExitCode.USAGE);
  const aggregate = Object.assign(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]), {});
  assert.equal(describeError(aggregate, 'localhost:1').exitCode, ExitCode.CONNECT_FAILED);
  assert.equal(describeError(new Error('boom')).exitCode, ExitCode.INTERNAL);
});
