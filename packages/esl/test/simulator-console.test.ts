// The simulator as FreeSWITCH's own fs_cli and other foreign clients see it: the console executor,
// the api commands every console user types, variables and expansion. Expected texts come from
// FreeSWITCH 1.10.12's source (mod_commands.c, switch_console.c, mod_console.c, switch_core.c).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutboundServer, Wire, delay, startSim } from './helpers/simulator.js';

/** `api <text>` as fs_cli -x sends it (with the console_execute header), the api/response body. */
async function consoleApi(w: Wire, text: string): Promise<string> {
  return (await w.command(`api ${text}\nconsole_execute: true`)).bodyText;
}

async function api(w: Wire, text: string): Promise<string> {
  return (await w.command(`api ${text}`)).bodyText;
}

test('console_execute: an unknown command is reported with the whole line; ;; runs several', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  assert.equal(await consoleApi(w, 'sofia status'), '-ERR sofia status Command not found!\n');
  assert.equal(await consoleApi(w, '/event plain ALL'), '-ERR /event plain ALL Command not found!\n');
  // Without the header only the first word is the command (api_exec).
  assert.equal(await api(w, 'sofia status'), '-ERR sofia Command not found!\n');
  // switch_console_execute: every part's output in order; an unknown part writes INVALID COMMAND!.
  assert.equal(await consoleApi(w, 'version short;;switchname'), '1.10.12-release\nsim');
  assert.equal(await consoleApi(w, 'nosuch;;version short'), 'INVALID COMMAND!\n1.10.12-release\n');
  assert.equal(await consoleApi(w, 'version short;;nosuch'), '-ERR version short;;nosuch Command not found!\n');
  // A known command answers as without the header.
  assert.equal(await consoleApi(w, 'echo hello there'), 'hello there');
});

test('version short, switchname, hostname, msleep, console', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { hostname: 'box', switchname: 'edge-1' });
  const w = await Wire.login(sim);
  assert.equal(await api(w, 'version short'), '1.10.12-release\n');
  assert.equal(await api(w, 'version'), 'FreeSWITCH Version 1.10.12-release~64bit ( 64bit)\n');
  assert.equal(await api(w, 'switchname'), 'edge-1');
  assert.equal(await api(w, 'hostname'), 'box');
  const before = performance.now();
  assert.equal(await api(w, 'msleep 60'), '+OK');
  assert.ok(performance.now() - before >= 55, 'msleep waits before it answers');
  assert.equal(await api(w, 'msleep'), '+OK');
  assert.equal(await api(w, 'console loglevel debug'), '+OK console log level set to DEBUG\n');
  assert.equal(await api(w, 'console loglevel 3'), '+OK console log level set to ERR\n');
  assert.equal(await api(w, 'console loglevel'), '+OK console log level set to ERR\n');
  assert.equal(await api(w, 'console loglevel loud'), '-ERR Invalid console loglevel (loud)!\n\n');
  assert.equal(await api(w, 'console colorize off'), '+OK console color disabled\n');
  assert.equal(await api(w, 'console colorize toggle'), '+OK console color enabled\n');
  assert.equal(await api(w, 'console uuid on'), '+OK console uuid enabled\n');
  assert.match(await api(w, 'console'), /^USAGE:\n-{80}\nconsole help\n/);
});

test('help and show api list the commands that answer, as the interfaces table has them', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  sim.registerApi('my_private', () => '+OK\n');
  const w = await Wire.login(sim);
  const help = await api(w, 'help');
  assert.ok(help.startsWith('\nValid Commands:\n\n'), help.slice(0, 40));
  assert.ok(help.includes('\nswitchname,,Return the switch name,mod_commands\n'));
  assert.ok(help.includes('\nuuid_dump,<uuid> [format],Dump session vars,mod_commands\n'));
  // show_function reads only "help" as the command word: an argument changes nothing.
  assert.equal(await api(w, 'help uuid_dump'), help);
  assert.equal(
    await api(w, 'show api uuid_dump'),
    'name,description,syntax,ikey\nuuid_dump,Dump session vars,<uuid> [format],mod_commands\n\n1 total.\n',
  );
  const all = (await api(w, 'show api')).split('\n');
  assert.equal(all[0], 'name,description,syntax,ikey');
  const names = all.slice(1, all.indexOf('')).map((row) => row.split(',')[0]!);
  assert.deepEqual(names, [...names].sort());
  for (const name of ['console', 'help', 'hostname', 'msleep', 'show', 'status', 'switchname', 'uuid_dump']) assert.ok(names.includes(name), name);
  // A command registered without an interfaces row has no description, which `show api` leaves out.
  assert.equal(names.includes('my_private'), false);
  assert.equal(all.at(-2), `${names.length} total.`);
});

test('global_getvar: the core variables switch_core_init sets, core_uuid among them', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { coreUuid: '11111111-2222-3333-4444-555555555555' });
  const w = await Wire.login(sim);
  const dump = await api(w, 'global_getvar');
  const names = dump.trimEnd().split('\n').map((line) => line.slice(0, line.indexOf('=')));
  assert.deepEqual(names.slice(0, 5), ['hostname', 'local_ip_v4', 'local_mask_v4', 'local_ip_v6', 'base_dir']);
  for (const name of ['core_uuid', 'conf_dir', 'log_dir', 'sounds_dir', 'temp_dir', 'domain', 'default_password']) assert.ok(names.includes(name), name);
  assert.equal(names.includes('switch_serial'), false);
  // vars.xml sets sound_prefix again after the core: it moved to the end of the core's block.
  assert.equal(names.filter((n) => n === 'sound_prefix').length, 1);
  assert.ok(names.indexOf('sound_prefix') > names.indexOf('core_uuid'));
  assert.equal(await api(w, 'global_getvar core_uuid'), '11111111-2222-3333-4444-555555555555');
  assert.equal(await api(w, 'global_getvar domain'), '127.0.0.1');
  assert.equal(await api(w, 'global_getvar no_such_var'), '-ERR no reply\n');
  // Setting a variable again moves it to the end (switch_core_set_variable).
  assert.equal(await api(w, 'global_setvar hostname=other'), '+OK');
  assert.ok((await api(w, 'global_getvar')).endsWith('hostname=other\n'));
});

test('eval expands $${globals}, event headers and escapes; uuid: reads that channel', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { hostname: 'box', coreUuid: '11111111-2222-3333-4444-555555555555' });
  const w = await Wire.login(sim);
  assert.equal(await api(w, 'eval $${hostname} x'), 'box x');
  assert.equal(await api(w, 'eval ${hostname}'), 'box');
  // The bare CHANNEL_DATA event's own headers.
  assert.equal(await api(w, 'eval ${Core-UUID}'), '11111111-2222-3333-4444-555555555555');
  assert.equal(await api(w, 'eval ${Event-Calling-Function}'), 'eval_function');
  assert.equal(await api(w, 'eval [${nothing}]'), '[]');
  assert.equal(await api(w, 'eval \\$${hostname}'), '${hostname}');
  assert.equal(await api(w, 'eval ${core_uuid:0:8}'), '11111111');
  assert.equal(await api(w, 'eval ${core_uuid:-4}'), '5555');
  const uuid = await sim.originate({ destination: '9999', direction: 'inbound', callerIdNumber: '5551234', variables: { acct: 'acme' } });
  assert.equal(await api(w, `eval uuid:${uuid} \${Caller-Caller-ID-Number}/\${variable_acct}`), '5551234/acme');
  // A channel variable is variable_<name> in the event: a bare name is looked up among the globals.
  assert.equal(await api(w, `eval uuid:${uuid} [\${acct}]`), '[]');
  assert.equal(await api(w, `eval uuid:${uuid}`), '-ERR no reply\n');
});

test('uuid_getvar falls back to the caller profile and the globals; uuid_dump prints the channel data', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  const uuid = await sim.originate({ destination: '9999', direction: 'inbound', callerIdNumber: '5551234', callerIdName: 'Alice', variables: { acct: 'acme' } });
  assert.equal(await api(w, `uuid_getvar ${uuid} destination_number`), '9999');
  assert.equal(await api(w, `uuid_getvar ${uuid} caller_id_number`), '5551234');
  assert.equal(await api(w, `uuid_getvar ${uuid} CALLER_ID_NAME`), 'Alice');
  assert.equal(await api(w, `uuid_getvar ${uuid} context`), 'default');
  assert.equal(await api(w, `uuid_getvar ${uuid} caller_ton`), '0');
  assert.equal(await api(w, `uuid_getvar ${uuid} acct`), 'acme');
  assert.equal(await api(w, `uuid_getvar ${uuid} hostname`), 'sim');
  assert.equal(await api(w, `uuid_getvar ${uuid} no_such_thing`), '_undef_');

  const txt = await api(w, `uuid_dump ${uuid}`);
  const lines = txt.split('\n');
  assert.equal(lines[0], 'Event-Name: CHANNEL_DATA');
  assert.ok(lines.includes('Event-Calling-File: mod_commands.c'));
  assert.ok(lines.includes('Event-Calling-Function: uuid_dump_function'));
  assert.ok(lines.includes(`Unique-ID: ${uuid}`));
  assert.ok(lines.includes('Caller-Destination-Number: 9999'));
  assert.ok(lines.includes('variable_acct: acme'));
  assert.ok(txt.endsWith('\n\n'));
  const plain = await api(w, `uuid_dump ${uuid} plain`);
  assert.ok(plain.startsWith('Event-Name: [CHANNEL_DATA]\n'));
  const json = JSON.parse(await api(w, `uuid_dump ${uuid} json`)) as Record<string, string>;
  assert.equal(json['Caller-Caller-ID-Name'], 'Alice');
  assert.equal(json['variable_acct'], 'acme');
  assert.match(await api(w, `uuid_dump ${uuid} xml`), /^<event>\n {2}<headers>\n {4}<Event-Name>CHANNEL_DATA<\/Event-Name>\n/);
  assert.equal(await api(w, 'uuid_dump'), '-USAGE: <uuid> [format]\n');
  assert.equal(await api(w, 'uuid_dump 00000000-0000-0000-0000-000000000000'), '-ERR No such channel!\n');
});

test('originate cleans its arguments: a quoted or \\s-escaped socket argument reaches an async full socket', { timeout: 20_000 }, async (t) => {
  const app = await OutboundServer.start();
  t.after(() => app.stop());
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  for (const socket of [`'&socket(127.0.0.1:${app.port} async full)'`, `&socket(127.0.0.1:${app.port}\\sasync\\sfull)`]) {
    const reply = await api(w, `originate {ccnq_account=acme,quoted='a b'}sim/5000/answer ${socket}`);
    assert.match(reply, /^\+OK [0-9a-f-]{36}\n$/, socket);
    const conn = await app.accept();
    const data = await conn.command('connect');
    assert.equal(data.get('Socket-Mode'), 'async', socket);
    assert.equal(data.get('Control'), 'full', socket);
    assert.equal(data.get('variable_ccnq_account'), 'acme');
    // The connect reply is URL-encoded (switch_event_serialize).
    assert.equal(data.get('variable_quoted'), 'a%20b');
    assert.equal(data.get('Channel-Destination-Number'), '5000');
    conn.close();
  }
  // The quotes are gone before the {…} block is split: a comma inside them separates variables.
  const reply = await api(w, `originate {list='x,y'}sim/5000/answer &park`);
  const uuid = reply.slice(4, 40);
  assert.equal(await api(w, `uuid_getvar ${uuid} list`), 'x');
});

test('sessions-per-second: FreeSWITCH\'s default 30, the real refusal, and a refill every second', { timeout: 20_000 }, async (t) => {
  const refused = await startSim(t, { sessionsPerSecond: 1 });
  const w = await Wire.login(refused);
  await w.command('log 2');
  // "Still above 0 after taking one": a limit of 1 lets no session start.
  assert.equal(await api(w, 'originate sim/5000/answer &park'), '-ERR DESTINATION_OUT_OF_ORDER\n');
  await w.until(() => w.frames.some((f) => f.contentType === 'log/data'));
  const log = w.frames.find((f) => f.contentType === 'log/data')!;
  assert.equal(log.get('Log-Level'), '2');
  assert.equal(log.get('Log-File'), 'switch_core_session.c');
  assert.match(log.bodyText, /\[CRIT\] switch_core_session\.c:2422 Throttle Error! 0\n$/);
  assert.match(await api(w, 'status'), /\n0 session\(s\) per Sec out of max 1, /);

  const sim = await startSim(t, { sessionsPerSecond: 3 });
  const x = await Wire.login(sim);
  // Start right after a second of uptime begins, so that the burst stays inside one second.
  await delay(1000 - (sim.uptimeMs % 1000) + 20);
  assert.match(await api(x, 'originate sim/5000/answer &park'), /^\+OK /);
  assert.match(await api(x, 'originate sim/5000/answer &park'), /^\+OK /);
  assert.equal(await api(x, 'originate sim/5000/answer &park'), '-ERR DESTINATION_OUT_OF_ORDER\n');
  // A loopback call takes two sessions.
  await delay(1000 - (sim.uptimeMs % 1000) + 20);
  assert.match(await api(x, 'originate loopback/9999/default &park'), /^\+OK /);
  assert.equal(await api(x, 'originate loopback/9999/default &park'), '-ERR DESTINATION_OUT_OF_ORDER\n');
  await assert.rejects(sim.originate({ direction: 'inbound', destination: '9999' }), /DESTINATION_OUT_OF_ORDER/);

  const standard = await startSim(t);
  assert.equal(standard.options.sessionsPerSecond, 30);
  await assert.rejects(startSim(t, { sessionsPerSecond: -1 }), { code: 'ESL_INVALID_ARGUMENT' });
});

test('log lines of a call: the core, the state machine and the dialplan log as they run', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  await w.command('log 7');
  const uuid = await sim.originate({ destination: '1000', direction: 'inbound', app: 'park' });
  await w.until(() => w.frames.some((f) => f.contentType === 'log/data' && f.bodyText.startsWith('EXECUTE [depth=0] ')));
  sim.hangup(uuid);
  await w.until(() => w.frames.some((f) => f.contentType === 'log/data' && f.bodyText.includes('Close Channel')));
  const logs = w.frames.filter((f) => f.contentType === 'log/data');
  const texts = logs.map((f) => f.bodyText.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} 99\.00% \[[A-Z]+\] \S+ /, '').trimEnd());
  const name = 'sofia/internal/0000000000@127.0.0.1';
  for (const line of [
    `New Channel ${name} [${uuid}]`,
    `(${name}) Running State Change CS_INIT (Cur 1 Tot 1)`,
    `(${name}) State INIT`,
    `${name} Standard INIT`,
    `(${name}) Callstate Change DOWN -> RINGING`,
    `(${name}) State EXECUTE`,
    `Hangup ${name} [CS_EXECUTE] [NORMAL_CLEARING]`,
    `${name} Standard HANGUP, cause: NORMAL_CLEARING`,
    `Session 1 (${name}) Ended`,
    `Close Channel ${name} [CS_DESTROY]`,
  ]) {
    assert.ok(texts.includes(line), line);
  }
  // An ID_LOG line: Text-Channel 0, the session in User-Data, the place that logs it.
  const hangup = logs.find((f) => f.bodyText.includes('] switch_channel.c:3424 Hangup '))!;
  assert.deepEqual(hangup.headers.slice(2), [
    ['Log-Level', '5'], ['Text-Channel', '0'], ['Log-File', 'switch_channel.c'], ['Log-Func', 'switch_channel_perform_hangup'],
    ['Log-Line', '3424'], ['User-Data', uuid],
  ]);
  assert.match(hangup.bodyText, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} 99\.00% \[NOTICE\] switch_channel\.c:3424 Hangup /);
  // A session line (SWITCH_CHANNEL_SESSION_LOG): Text-Channel 3.
  const standard = logs.find((f) => f.bodyText.endsWith(`${name} Standard INIT\n`))!;
  assert.equal(standard.get('Text-Channel'), '3');
  assert.equal(standard.get('Log-Level'), '7');
  assert.equal(standard.get('Log-Func'), 'switch_core_standard_on_init');
  // At level 5 (NOTICE) only the NOTICE lines come.
  const quiet = await Wire.login(sim);
  await quiet.command('log 5');
  const other = await sim.originate({ destination: '1000', direction: 'inbound', app: 'park' });
  sim.hangup(other);
  await quiet.until(() => quiet.frames.some((f) => f.contentType === 'log/data' && f.bodyText.includes('Close Channel')));
  assert.ok(quiet.frames.filter((f) => f.contentType === 'log/data').every((f) => Number(f.get('Log-Level')) <= 5));
});
