/**
 * Inbound client against hand-made raw servers: authentication outcomes, pipelining and pairing,
 * and every way a server can go wrong (closing mid frame, stalling, out-of-order replies).
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { inspect } from 'node:util';
import { after, afterEach, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { connect, type EslClient } from '../src/inbound/client.js';
import {
  EslAbortError,
  EslAccessDeniedError,
  EslAuthError,
  EslCommandError,
  EslConnectError,
  EslConnectionClosedError,
  EslInvalidArgumentError,
  EslOutOfSyncError,
  EslTimeoutError,
} from '../src/errors.js';
import { FaultServer, GOODBYE, closedPort, plainEvent } from './helpers/fault-server.js';

const servers: FaultServer[] = [];
const clients: EslClient[] = [];

async function server(options: Parameters<typeof FaultServer.start>[0] = {}) {
  const s = await FaultServer.start(options);
  servers.push(s);
  return s;
}

async function client(s: FaultServer, extra: Parameters<typeof connect>[0] = {}) {
  const c = await connect({ port: s.port, password: 'ClueCon', ...extra });
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

after(() => {
  // Belt and braces: nothing may keep the runner alive.
  for (const c of clients) c.destroy();
});

describe('authentication', () => {
  test('connects with the password, runs api, closes with exit and waits for the goodbye', async () => {
    const s = await server({ password: 's3cret' });
    const c = await client(s, { password: 's3cret' });
    assert.equal(c.state, 'connected');
    const conn = s.connections[0]!;
    assert.equal(conn.received[0]!.line, 'auth s3cret');
    assert.equal(await c.api('status'), 'status');
    assert.doesNotMatch(inspect(c, { depth: 8, showHidden: true }), /s3cret/, 'the password is not visible on the client');
    await c.close();
    assert.equal(c.state, 'closed');
    assert.equal(conn.received.at(-1)!.line, 'exit');
    await conn.closed;
  });

  test('userauth sends user@domain:password and exposes the permissions', async () => {
    const s = await server({ password: 'pw' });
    const c = await client(s, { user: 'alice@example.org', password: 'pw' });
    assert.equal(s.connections[0]!.received[0]!.line, 'userauth alice@example.org:pw');
    assert.deepEqual(c.permissions, { allowedEvents: 'all', allowedApi: 'all', allowedLog: 'true' });
  });

  test('a wrong password is a terminal EslAuthError, never retried, and the password is not in it', async () => {
    const s = await server({ password: 'right' });
    const err = await connect({ port: s.port, password: 'hunter2-wrong', reconnect: { initialDelay: 1 } }).then(
      () => assert.fail('connected with a wrong password'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof EslAuthError, String(err));
    assert.equal(err.code, 'ESL_AUTH_FAILED');
    assert.equal(err.retriable, false);
    assert.match(err.message, /-ERR invalid/);
    assert.doesNotMatch(`${err.message} ${err.stack} ${JSON.stringify(err)}`, /hunter2/);
    await delay(30);
    assert.equal(s.connections.length, 1, 'no retry after an auth failure');
  });

  test('a server that never answers auth: connect timeout, and the password is nowhere in the error', async () => {
    const s = await server({ onCommand: (cmd) => cmd.line.startsWith('auth') });
    const err = await connect({ port: s.port, password: 'p4ssw0rd-never-shown', connectTimeout: 300 }).catch((e: unknown) => e);
    assert.ok(err instanceof EslConnectError, String(err));
    assert.match((err as Error).message, /authentication/);
    assert.doesNotMatch(`${(err as Error).message} ${(err as Error).stack} ${String((err as Error).cause)}`, /p4ssw0rd/);
  });

  test('a password with a line break is refused without echoing it', async () => {
    const s = await server();
    const err = await connect({ port: s.port, password: 'top\nsecret' }).catch((e: unknown) => e);
    assert.ok(err instanceof EslInvalidArgumentError);
    assert.doesNotMatch((err as Error).message, /secret/);
  });

  test('rude rejection becomes EslAccessDeniedError', async () => {
    const s = await server({
      onConnection: (conn) => {
        conn.write('Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n');
        conn.disconnectNotice();
        conn.end();
        return false;
      },
    });
    const err = await connect({ port: s.port }).catch((e: unknown) => e);
    assert.ok(err instanceof EslAccessDeniedError, String(err));
    assert.match((err as Error).message, /Access Denied, go away/);
  });

  test('connect timeout when the server never sends auth/request', async () => {
    const s = await server({ onConnection: () => false });
    const err = await connect({ port: s.port, connectTimeout: 100 }).catch((e: unknown) => e);
    assert.ok(err instanceof EslConnectError, String(err));
    assert.match((err as Error).message, /timed out after 100 ms/);
  });

  test('a refused TCP connection is EslConnectError (retriable)', async () => {
    const port = await closedPort();
    const err = await connect({ port }).catch((e: unknown) => e);
    assert.ok(err instanceof EslConnectError, String(err));
    assert.equal((err as EslConnectError).retriable, true);
    assert.match((err as Error).message, /ECONNREFUSED/);
  });

  test('server closing before auth/request is EslConnectError', async () => {
    const s = await server({
      onConnection: (conn) => {
        conn.end();
        return false;
      },
    });
    const err = await connect({ port: s.port }).catch((e: unknown) => e);
    assert.ok(err instanceof EslConnectError, String(err));
  });

  test('an aborted connect rejects with EslAbortError', async () => {
    const s = await server({ onConnection: () => false });
    const ac = new AbortController();
    const p = connect({ port: s.port, signal: ac.signal });
    ac.abort();
    await assert.rejects(p, EslAbortError);
  });
});

describe('api and pipelining', () => {
  test('-ERR body rejects with EslCommandError carrying the text; raw returns it', async () => {
    const s = await server({
      onCommand: (cmd, conn) => {
        if (cmd.line === 'api nosuchcommand') {
          conn.apiResponse('-ERR nosuchcommand Command not found!\n');
          return true;
        }
        return false;
      },
    });
    const c = await client(s);
    const err = await c.api('nosuchcommand').catch((e: unknown) => e);
    assert.ok(err instanceof EslCommandError);
    assert.equal(err.reply, '-ERR nosuchcommand Command not found!\n');
    assert.equal(err.command, 'api nosuchcommand');
    assert.equal(err.message, 'api nosuchcommand failed: -ERR nosuchcommand Command not found!');
    assert.equal(await c.api('nosuchcommand', { raw: true }), '-ERR nosuchcommand Command not found!\n');
    assert.equal(await c.api('still in sync'), 'still in sync');
  });

  test('EslCommandError messages name the command, never its arguments beyond the api command', () => {
    assert.equal(new EslCommandError('api originate {x=secret}sofia/gw/1 &park', '-ERR NO_ANSWER\n').message, 'api originate failed: -ERR NO_ANSWER');
    assert.equal(new EslCommandError('bgapi uuid_kill abc', '-ERR No such channel!\n').message, 'bgapi uuid_kill failed: -ERR No such channel!');
    assert.equal(new EslCommandError('sendmsg abc execute playback', '-ERR invalid session id [abc]').message, 'sendmsg failed: -ERR invalid session id [abc]');
    assert.equal(new EslCommandError('connect', '-ERR x').message, 'connect failed: -ERR x');
  });

  test('an api refused by userauth (command/reply -ERR permission denied) is a command error, not lost sync', async () => {
    const s = await server({
      onCommand: (cmd, conn) => {
        if (cmd.line === 'api forbidden') {
          conn.reply('-ERR permission denied');
          return true;
        }
        return false;
      },
    });
    const c = await client(s, { user: 'bob@d' });
    const [denied, fine] = await Promise.allSettled([c.api('forbidden'), c.api('allowed')]);
    assert.equal(denied.status, 'rejected');
    assert.ok((denied as PromiseRejectedResult).reason instanceof EslCommandError);
    assert.deepEqual(fine, { status: 'fulfilled', value: 'allowed' });
    assert.equal(c.state, 'connected');
  });

  test('10,000 pipelined api calls are all paired with their own replies', async () => {
    const s = await server();
    const c = await client(s);
    const n = 10_000;
    const calls: Array<Promise<string>> = [];
    for (let i = 0; i < n; i++) calls.push(c.api(`echo ${i}`));
    assert.ok(c.pendingCount > 0, 'commands are in flight together');
    const results = await Promise.all(calls);
    for (let i = 0; i < n; i++) assert.equal(results[i], `echo ${i}`);
    assert.equal(c.pendingCount, 0);
  });

  test('replies may arrive one byte at a time with events interleaved', async () => {
    const s = await server({
      onCommand: (cmd, conn) => {
        if (!cmd.line.startsWith('api ')) return false;
        const body = cmd.line.slice(4);
        const bytes = Buffer.from(
          plainEvent({ 'Event-Name': 'HEARTBEAT', 'Core-UUID': 'abc' }) +
            `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`,
        );
        let i = 0;
        const drip = () => {
          if (i < bytes.length) {
            conn.write(bytes.subarray(i, i + 1));
            i++;
            setImmediate(drip);
          }
        };
        drip();
        return true;
      },
    });
    const c = await client(s);
    await c.subscribe('HEARTBEAT');
    let beats = 0;
    c.on('HEARTBEAT', () => beats++);
    assert.equal(await c.api('slow ünïcode'), 'slow ünïcode');
    assert.equal(beats, 1);
  });

  test('invalid arguments reject (not throw) and send nothing', async () => {
    const s = await server();
    const c = await client(s);
    const p = c.api('status\nexit');
    assert.ok(p instanceof Promise);
    await assert.rejects(p, EslInvalidArgumentError);
    await assert.rejects(c.subscribe([]), EslInvalidArgumentError);
    assert.equal(await c.api('ok'), 'ok');
    assert.deepEqual(
      s.connections[0]!.received.map((r) => r.line),
      ['auth ClueCon', 'api ok'],
    );
  });
});

describe('server faults', () => {
  test('server closes mid reply: pending commands reject with a retriable EslConnectionClosedError', async () => {
    const s = await server({
      onCommand: (cmd, conn) => {
        if (cmd.line === 'api cut') {
          conn.write('Content-Type: api/resp');
          setImmediate(() => conn.destroy());
          return true;
        }
        return false;
      },
    });
    const c = await client(s);
    const closed = new Promise<Error | undefined>((resolve) => c.once('close', resolve));
    const results = await Promise.allSettled([c.api('cut'), c.api('after')]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok(r.reason instanceof EslConnectionClosedError, String(r.reason));
      assert.equal(r.reason.retriable, true);
    }
    const why = await closed;
    assert.ok(why instanceof EslConnectionClosedError);
    assert.equal(c.state, 'closed');
    await assert.rejects(c.api('later'), EslConnectionClosedError);
  });

  test('server closes mid body', async () => {
    const s = await server({
      onCommand: (cmd, conn) => {
        if (cmd.line === 'api cut') {
          conn.write('Content-Type: api/response\nContent-Length: 100\n\nonly part of it');
          setImmediate(() => conn.end());
          return true;
        }
        return false;
      },
    });
    const c = await client(s);
    await assert.rejects(c.api('cut'), EslConnectionClosedError);
    assert.equal(c.state, 'closed');
  });

  test('server closes between commands: the client closes and says why', async () => {
    const s = await server();
    const c = await client(s);
    assert.equal(await c.api('one'), 'one');
    const closed = new Promise<Error | undefined>((resolve) => c.once('close', resolve));
    s.connections[0]!.end();
    const why = await closed;
    assert.ok(why instanceof EslConnectionClosedError);
    assert.match(why.message, /closed by the server/);
    await assert.rejects(c.api('two'), /client is closed/);
  });

  test('an unsolicited disconnect notice fails pending commands with the server text', async () => {
    const s = await server({
      onCommand: (cmd, conn) => {
        if (cmd.line === 'api hang') {
          conn.disconnectNotice('The system is being shut down.\n');
          return true;
        }
        return false;
      },
    });
    const c = await client(s);
    const err = await c.api('hang').catch((e: unknown) => e);
    assert.ok(err instanceof EslConnectionClosedError);
    assert.match(String((err as Error).message) + String((err as Error).cause), /system is being shut down/);
    assert.equal(c.state, 'closed');
  });

  test('a reply of the wrong type fails every pending command with EslOutOfSyncError and closes', async () => {
    const s = await server({
      onCommand: (cmd, conn) => {
        if (cmd.line === 'api first') {
          conn.reply('+OK not an api response');
          return true;
        }
        return false;
      },
    });
    const c = await client(s);
    const closed = new Promise<Error | undefined>((resolve) => c.once('close', resolve));
    const results = await Promise.allSettled([c.api('first'), c.api('second'), c.subscribe('ALL')]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok(r.reason instanceof EslOutOfSyncError, String(r.reason));
    }
    assert.ok((await closed) instanceof EslOutOfSyncError);
  });

  test('a reply with nothing pending is out of sync too', async () => {
    const s = await server();
    const c = await client(s);
    const closed = new Promise<Error | undefined>((resolve) => c.once('close', resolve));
    s.connections[0]!.reply('+OK surprise');
    assert.ok((await closed) instanceof EslOutOfSyncError);
  });

  test('a malformed frame closes with a parse error, never a crash', async () => {
    const s = await server();
    const c = await client(s);
    const closed = new Promise<Error | undefined>((resolve) => c.once('close', resolve));
    const pending = c.api('x').catch((e: unknown) => e);
    s.connections[0]!.write('this line has no colon\n\n');
    const why = await closed;
    assert.equal((why as { code?: string }).code, 'ESL_PARSE');
    assert.ok((await pending) instanceof Error);
  });

  test('maxBodyBytes is enforced', async () => {
    const s = await server();
    const c = await client(s, { maxBodyBytes: 10 });
    await assert.rejects(c.api('this body is longer than ten bytes'));
    assert.equal(c.state, 'closed');
  });

  test('stalled server: per-call timeout rejects, later replies still pair correctly', async () => {
    const held: Array<() => void> = [];
    const s = await server({
      onCommand: (cmd, conn) => {
        if (cmd.line === 'api slow') {
          held.push(() => conn.apiResponse('slow'));
          return true;
        }
        if (cmd.line.startsWith('api ') && held.length > 0) {
          // FreeSWITCH answers in order: hold this one until the slow one is answered.
          held.push(() => conn.apiResponse(cmd.line.slice(4)));
          return true;
        }
        return false;
      },
    });
    const c = await client(s);
    const slow = c.api('slow', { timeout: 50 });
    const next = c.api('next');
    const err = await slow.catch((e: unknown) => e);
    assert.ok(err instanceof EslTimeoutError);
    assert.equal(err.retriable, true);
    for (const h of held.splice(0)) h();
    assert.equal(await next, 'next', 'the late reply to the timed-out call was consumed, not given to the next one');
    assert.equal(await c.api('after'), 'after');
  });

  test('the connect-level default timeout applies and 0 disables it per call', async () => {
    let release: (() => void) | undefined;
    const s = await server({
      onCommand: (cmd, conn) => {
        if (cmd.line === 'api slow') {
          release = () => conn.apiResponse('done');
          return true;
        }
        return false;
      },
    });
    const c = await client(s, { timeout: 30 });
    const p = c.api('slow', { timeout: 0 });
    await delay(80);
    release!();
    assert.equal(await p, 'done');
    s.options.onCommand = () => true; // stall everything
    await assert.rejects(c.api('never'), EslTimeoutError);
  });

  test('AbortSignal aborts a pending call and leaves no listener on the signal', async () => {
    const s = await server({ onCommand: (cmd) => cmd.line === 'api never' });
    const c = await client(s);
    const ac = new AbortController();
    const p = c.api('never', { signal: ac.signal });
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
    ac.abort(new Error('user gave up'));
    await assert.rejects(p, EslAbortError);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    await assert.rejects(c.api('x', { signal: ac.signal }), EslAbortError);
  });
});

describe('write backpressure', () => {
  test('socket.write() returning false queues later commands until drain, in order', async () => {
    const s = await server();
    const c = await client(s);
    const conn = s.connections[0]!;
    conn.socket.pause(); // the server stops reading: kernel buffers fill, then ours
    const body = 'x'.repeat(64 * 1024);
    const sent: Array<Promise<string>> = [];
    let drained = false;
    c.once('drain', () => {
      drained = true;
    });
    let i = 0;
    while (!c.writeBlocked && i < 2000) {
      sent.push(c.sendevent('CUSTOM', { 'Event-Subclass': 'bulk::data', Seq: i++ }, body));
      if (i % 20 === 0) await delay(1); // let the socket flush into the kernel
    }
    assert.equal(c.writeBlocked, true, 'the socket reported backpressure');
    for (let k = 0; k < 10; k++) sent.push(c.sendevent('CUSTOM', { 'Event-Subclass': 'bulk::data', Seq: i++ }, body));
    conn.socket.resume();
    await Promise.all(sent);
    assert.equal(drained, true);
    assert.equal(c.writeBlocked, false);
    const seqs = conn.received.filter((r) => r.line === 'sendevent CUSTOM').map((r) => Number(r.get('Seq')));
    assert.deepEqual(seqs, Array.from({ length: i }, (_, k) => k));
    assert.ok(conn.received.every((r) => r.line !== 'sendevent CUSTOM' || r.bodyText === body));
  });
});

describe('closing', () => {
  test('close() lets replies to commands already sent arrive, then settles everything', async () => {
    const s = await server();
    const c = await client(s);
    const a = c.api('before close');
    const job = c.bgapi('never finishes', { jobUuid: 'job-1' });
    s.options.onCommand = (cmd, conn) => {
      if (cmd.line.startsWith('bgapi')) {
        conn.reply('+OK Job-UUID: job-1', 'Job-UUID: job-1\n');
        return true;
      }
      return false;
    };
    const closing = c.close();
    assert.equal(c.state, 'closing');
    await assert.rejects(c.api('after close'), EslConnectionClosedError);
    assert.equal(await a, 'before close');
    const jobErr = await job.catch((e: unknown) => e);
    assert.ok(jobErr instanceof EslConnectionClosedError, String(jobErr));
    await closing;
    assert.equal(c.state, 'closed');
    await c.close(); // idempotent
  });

  test('close() destroys the socket when the server never says goodbye', async () => {
    const s = await server({ onCommand: (cmd) => cmd.line === 'exit' });
    const c = await client(s);
    const t0 = Date.now();
    await c.close({ timeout: 50 });
    assert.equal(c.state, 'closed');
    assert.ok(Date.now() - t0 < 5000);
  });

  test('destroy() rejects everything at once', async () => {
    const s = await server({ onCommand: (cmd) => cmd.line.startsWith('api') });
    const c = await client(s);
    const p = c.api('pending');
    const e = c.execute('uuid-1', 'playback', 'x.wav');
    c.destroy();
    assert.equal(c.state, 'closed');
    await assert.rejects(p, EslConnectionClosedError);
    await assert.rejects(e, EslConnectionClosedError);
  });

  test('the goodbye notice after exit is expected, not an error', async () => {
    const s = await server();
    const c = await client(s);
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    const closeArg = new Promise<Error | undefined>((resolve) => c.once('close', resolve));
    await c.close();
    assert.equal(await closeArg, undefined);
    assert.deepEqual(errors, []);
    assert.match(GOODBYE, /goodbye/);
  });
});
