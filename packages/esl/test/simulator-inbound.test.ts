import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Wire, delay, startSim } from './helpers/simulator.js';

const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

test('greeting: the simulator sends auth/request and nothing else (wire helper sanity)', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.connect(sim.port);
  const first = await w.next();
  assert.equal(first.contentType, 'auth/request');
  assert.equal(w.raw.toString('latin1'), 'Content-Type: auth/request\n\n');
  w.close();
});

test('auth: right password is accepted, byte-exact reply', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { password: 'secret' });
  const w = await Wire.connect(sim.port);
  await w.next();
  w.send('auth secret\n\n');
  await w.next();
  assert.equal(w.raw.toString(), 'Content-Type: auth/request\n\nContent-Type: command/reply\nReply-Text: +OK accepted\n\n');
  w.close();
});

test('auth: wrong password gets -ERR invalid, the disconnect notice and a close', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.connect(sim.port);
  await w.next();
  w.send('auth wrongpassword\n\n');
  await w.waitClosed();
  assert.equal(
    w.raw.toString(),
    `Content-Type: auth/request\n\nContent-Type: command/reply\nReply-Text: -ERR invalid\n\nContent-Type: text/disconnect-notice\nContent-Length: 67\n\n${GOODBYE}`,
  );
});

test('before auth only auth/userauth/exit work; api gets -ERR command not found and the socket stays open', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.connect(sim.port);
  await w.next();
  assert.equal((await w.command('api status')).get('Reply-Text'), '-ERR command not found');
  assert.equal((await w.command('event plain ALL')).get('Reply-Text'), '-ERR command not found');
  assert.equal((await w.command('auth ClueCon')).get('Reply-Text'), '+OK accepted');
  assert.equal((await w.command('api echo hi')).bodyText, 'hi');
  w.close();
});

test('userauth user@domain:pass with allowed lists; permission checks; bad user closes', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, {
    users: { 'bob@example.com': { password: 'pw', allowedEvents: 'CHANNEL_ANSWER,CUSTOM,app::one', allowedApi: 'status,bgapi', allowedLog: false } },
  });
  const w = await Wire.connect(sim.port);
  await w.next();
  const r = await w.command('userauth bob@example.com:pw');
  assert.deepEqual(r.headers, [
    ['Content-Type', 'command/reply'],
    ['Reply-Text', '+OK accepted'],
    ['Allowed-Events', 'CHANNEL_ANSWER,CUSTOM,app::one'],
    ['Allowed-API', 'status,bgapi'],
    ['Allowed-LOG', 'false'],
  ]);
  assert.equal((await w.command('api version')).get('Reply-Text'), '-ERR permission denied');
  assert.match((await w.command('api status')).bodyText, /^UP /);
  assert.equal((await w.command('bgapi version')).get('Reply-Text'), '-ERR permission denied');
  assert.equal((await w.command('event plain CHANNEL_HANGUP')).get('Reply-Text'), '-ERR permission denied');
  assert.equal((await w.command('event plain CHANNEL_ANSWER CUSTOM app::one')).get('Reply-Text'), '+OK event listener enabled plain');
  assert.equal((await w.command('event plain CUSTOM app::two')).get('Reply-Text'), '-ERR permission denied');
  assert.equal((await w.command('log 7')).get('Reply-Text'), '-ERR permission denied');
  w.close();

  // user:pass@domain form, and the default Allowed-* values.
  const sim2 = await startSim(t, { users: { 'amy@d': { password: 'x' } } });
  const w2 = await Wire.connect(sim2.port);
  await w2.next();
  const r2 = await w2.command('userauth amy:x@d');
  assert.equal(r2.get('Allowed-Events'), 'all');
  assert.equal(r2.get('Allowed-API'), 'all');
  assert.equal(r2.get('Allowed-LOG'), 'true');
  w2.close();

  const w3 = await Wire.connect(sim2.port);
  await w3.next();
  assert.equal((await w3.command('userauth amy@d:wrong')).get('Reply-Text'), '-ERR invalid');
  await w3.waitClosed();
});

test('ACL: a denied peer gets text/rude-rejection, then the disconnect notice', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { acl: ['10.0.0.0/8'] });
  const w = await Wire.connect(sim.port);
  await w.waitClosed();
  assert.equal(
    w.raw.toString(),
    `Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\nContent-Type: text/disconnect-notice\nContent-Length: 67\n\n${GOODBYE}`,
  );
  const sim2 = await startSim(t, { acl: ['127.0.0.0/8'] });
  const w2 = await Wire.connect(sim2.port);
  assert.equal((await w2.next()).contentType, 'auth/request');
  w2.close();
});

test('exit: +OK bye, disconnect notice, close; commands match by case-insensitive prefix', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  assert.equal((await w.command('EVENTS plain CHANNEL_CREATE')).get('Reply-Text'), '+OK event listener enabled plain');
  assert.equal((await w.command('nosuchcommand')).get('Reply-Text'), '-ERR command not found');
  w.send('exitxyz\n\n');
  await w.waitClosed();
  const text = w.raw.toString();
  assert.ok(text.endsWith(`Content-Type: command/reply\nReply-Text: +OK bye\n\nContent-Type: text/disconnect-notice\nContent-Length: 67\n\n${GOODBYE}`));
});

test('api: output, unknown command, empty output, API event after the reply', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  await w.command('event plain API');
  const r = await w.command('api nosuchcommand');
  assert.equal(r.contentType, 'api/response');
  assert.equal(r.bodyText, '-ERR nosuchcommand Command not found!\n');
  assert.deepEqual(r.headers.map((h) => h[0]), ['Content-Type', 'Content-Length']);
  assert.equal((await w.command('api global_getvar nosuchvar')).bodyText, '-ERR no reply\n');
  assert.equal((await w.command('api reloadxml')).bodyText, '+OK [Success]\n');
  assert.equal((await w.command('api echo héllo wörld')).bodyText, 'héllo wörld');
  assert.equal((await w.command('api global_setvar foo=bar')).bodyText, '+OK');
  assert.equal((await w.command('api global_getvar foo')).bodyText, 'bar');
  assert.match((await w.command('api version')).bodyText, /^FreeSWITCH Version 1\.10\.12/);
  assert.match((await w.command('api uptime')).bodyText, /^\d+\n$/);
  const status = (await w.command('api status')).bodyText;
  assert.match(status, /^UP 0 years, 0 days, 0 hours, 0 minutes, \d+ seconds?, \d+ milliseconds?, \d+ microseconds?\nFreeSWITCH \(Version 1\.10\.12-release  64bit\) is ready\n/);
  const apiEvent = await w.event((e) => e.name === 'API' && e.get('API-Command') === 'echo');
  assert.equal(apiEvent.get('API-Command-Argument'), 'héllo wörld');
  w.close();
});

test('bgapi: own and client Job-UUID, reply headers, BACKGROUND_JOB after the reply', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  await w.command('event plain BACKGROUND_JOB');
  const r = await w.command('bgapi status\nJob-UUID: 11111111-2222-3333-4444-555555555555');
  assert.deepEqual(r.headers, [
    ['Content-Type', 'command/reply'],
    ['Reply-Text', '+OK Job-UUID: 11111111-2222-3333-4444-555555555555'],
    ['Job-UUID', '11111111-2222-3333-4444-555555555555'],
  ]);
  const ev = await w.event((e) => e.name === 'BACKGROUND_JOB');
  assert.equal(ev.jobUuid, '11111111-2222-3333-4444-555555555555');
  assert.equal(ev.get('Job-Command'), 'status');
  assert.equal(ev.get('Job-Command-Arg'), undefined);
  assert.match(ev.body, /^UP /);
  const r2 = await w.command('bgapi echo one two');
  const id = r2.get('Job-UUID')!;
  assert.match(id, /^[0-9a-f-]{36}$/);
  const ev2 = await w.event((e) => e.name === 'BACKGROUND_JOB' && e.jobUuid === id);
  assert.equal(ev2.get('Job-Command-Arg'), 'one two');
  assert.equal(ev2.body, 'one two');
  w.close();
});

test('events: formats, CUSTOM subclasses, nixevent, noevents, myevents errors', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  assert.equal((await w.command('event json')).get('Reply-Text'), '-ERR no keywords supplied');
  assert.equal((await w.command('event xml CUSTOM test::demo')).get('Reply-Text'), '+OK event listener enabled xml');
  sim.fireEvent('CUSTOM', { Foo: 'bar' }, undefined, 'other::x');
  sim.fireEvent('CUSTOM', { Foo: 'a&b' }, 'body <1>', 'test::demo');
  const ev = await w.event();
  assert.equal(ev.format, 'xml');
  assert.equal(ev.subclass, 'test::demo');
  assert.equal(ev.get('Foo'), 'a&b');
  assert.equal(ev.body, 'body <1>');
  assert.equal((await w.command('event json CHANNEL_CREATE')).get('Reply-Text'), '+OK event listener enabled json');
  assert.equal((await w.command('nixevent CUSTOM test::demo')).get('Reply-Text'), '+OK events nixed');
  assert.equal((await w.command('nixevent nosuch')).get('Reply-Text'), '-ERR no keywords supplied');
  sim.fireEvent('CUSTOM', { N: '1' }, undefined, 'test::demo');
  sim.fireEvent('CHANNEL_CREATE', { N: '2' });
  const e2 = await w.event();
  assert.equal(e2.name, 'CHANNEL_CREATE');
  assert.equal(e2.format, 'json');
  assert.equal((await w.command('noevents')).get('Reply-Text'), '+OK no longer listening for events');
  assert.equal((await w.command('noevents')).get('Reply-Text'), '-ERR not listening for events');
  assert.equal((await w.command('myevents 00000000-0000-0000-0000-000000000000 json')).get('Reply-Text'), '-ERR invalid uuid');
  assert.equal((await w.command('divert_events on')).get('Reply-Text'), '-ERR not controlling a session.');
  assert.equal((await w.command('linger')).get('Reply-Text'), '-ERR not controlling a session');
  assert.equal((await w.command('nolinger')).get('Reply-Text'), '-ERR not controlling a session');
  assert.equal((await w.command('sendmsg')).get('Reply-Text'), '-ERR invalid session id []');
  assert.equal((await w.command('sendmsg abc')).get('Reply-Text'), '-ERR invalid session id [abc]');
  w.close();
});

test('ALL then nixevent one type keeps every other type', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  await w.command('event plain ALL');
  await w.command('nixevent HEARTBEAT');
  sim.fireEvent('HEARTBEAT', {});
  sim.fireEvent('CUSTOM', {}, undefined, 'any::thing');
  sim.fireEvent('RELOADXML', {});
  const names = [(await w.event()).name, (await w.event()).name];
  assert.deepEqual(names, ['CUSTOM', 'RELOADXML']);
  w.close();
});

test('filters: add, delete, negative, regex, only-negative delivers nothing', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  await w.command('event plain CUSTOM f::t');
  assert.equal((await w.command('filter Unique-ID x')).get('Reply-Text'), '+OK filter added. [Unique-ID]=[x]');
  assert.equal((await w.command('filter delete Unique-ID x')).get('Reply-Text'), '+OK filter deleted. [Unique-ID][x]');
  assert.equal((await w.command('filter')).get('Reply-Text'), '-ERR command not found');
  assert.equal((await w.command('filter Foo')).get('Reply-Text'), '-ERR invalid syntax');
  assert.equal((await w.command('filter add Foo /^ab+c$/')).get('Reply-Text'), '+OK filter added. [Foo]=[/^ab+c$/]');
  assert.equal((await w.command('filter Foo -abbbc')).get('Reply-Text'), '+OK filter added. [Foo]=[-abbbc]');
  for (const v of ['abc', 'xyz', 'abbbc', 'ABC']) sim.fireEvent('CUSTOM', { Foo: v }, undefined, 'f::t');
  const got = await w.event();
  assert.equal(got.get('Foo'), 'abc');
  await w.command('filter delete all');
  assert.equal((await w.command('filter Foo -xyz')).get('Reply-Text'), '+OK filter added. [Foo]=[-xyz]');
  sim.fireEvent('CUSTOM', { Foo: 'other' }, undefined, 'f::t');
  await w.command('filter delete Foo');
  await w.command('filter Foo value with spaces');
  sim.fireEvent('CUSTOM', { Foo: 'VALUE WITH SPACES' }, undefined, 'f::t');
  const next = await w.event();
  assert.equal(next.get('Foo'), 'VALUE WITH SPACES');
  assert.equal(w.events().length, 2, 'the event under a negative-only filter set was not delivered');
  w.close();
});

test('sendevent: reply, echo to subscribers with Command and client headers first', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  await w.command('event plain CUSTOM test::demo');
  const body = 'hello from misc_capture\nline two\n';
  const r = await w.command(`sendevent CUSTOM\nEvent-Subclass: test::demo\nContent-Type: text/plain\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`);
  const id = r.get('Reply-Text')!.slice(4);
  assert.match(r.get('Reply-Text')!, /^\+OK [0-9a-f-]{36}$/);
  const ev = await w.event();
  const names = [...ev.headers()].map(([n]) => n);
  assert.deepEqual(names.slice(0, 6), ['Event-Subclass', 'Command', 'Content-Type', 'Content-Length', 'Event-UUID', 'Event-Name']);
  assert.equal(ev.get('Command'), 'sendevent CUSTOM');
  assert.equal(ev.get('Event-UUID'), id);
  assert.equal(ev.body, body);
  w.close();
});

test('log: log/data frames with level filtering; nolog', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  assert.equal((await w.command('log 7')).get('Reply-Text'), '+OK log level 7 [7]');
  assert.equal((await w.command('log bogus')).get('Reply-Text'), '-ERR invalid log level');
  assert.equal((await w.command('log')).get('Reply-Text'), '+OK log level  [7]');
  assert.equal((await w.command('log WARNING')).get('Reply-Text'), '+OK log level WARNING [4]');
  sim.log('INFO', 'not delivered at WARNING');
  sim.log(3, 'an error line', { file: 'x.c', func: 'fn', line: 12 });
  const f = await w.next((fr) => fr.contentType === 'log/data');
  assert.deepEqual(f.headers.map((h) => h[0]), ['Content-Type', 'Content-Length', 'Log-Level', 'Text-Channel', 'Log-File', 'Log-Func', 'Log-Line', 'User-Data']);
  assert.equal(f.get('Log-Level'), '3');
  assert.equal(f.get('Log-File'), 'x.c');
  assert.match(f.bodyText, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} \d+\.\d\d% \[ERR\] x\.c:12 an error line\n$/);
  assert.equal((await w.command('nolog')).get('Reply-Text'), '+OK no longer logging');
  assert.equal((await w.command('nolog')).get('Reply-Text'), '-ERR not loging');
  assert.equal(w.frames.filter((fr) => fr.contentType === 'log/data').length, 1);
  w.close();
});

test('replies keep command order when commands are pipelined', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  w.send('api echo 1\n\nbgapi echo 2\n\napi echo 3\n\nevent plain CUSTOM\n\napi echo 4\n\n');
  const replies = [await w.reply(), await w.reply(), await w.reply(), await w.reply(), await w.reply()];
  assert.deepEqual(replies.map((r) => r.bodyText || r.get('Reply-Text')!.slice(0, 14)), ['1', '+OK Job-UUID: ', '3', '+OK event list', '4']);
  w.close();
});

test('no events are written while a command is half received', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  await w.command('event plain CUSTOM');
  w.send('api ech');
  await delay(20);
  sim.fireEvent('CUSTOM', { X: '1' });
  await delay(50);
  assert.equal(w.events().length, 0);
  w.send('o hi\n\n');
  const r = await w.reply();
  assert.equal(r.bodyText, 'hi');
  const ev = await w.event();
  assert.equal(ev.get('X'), '1');
  w.close();
});
