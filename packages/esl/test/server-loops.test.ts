/**
 * `loops` on the outbound side: FreeSWITCH fires one CHANNEL_EXECUTE_COMPLETE per iteration with
 * the same Application-UUID (switch_ivr_parse_event), so execute must settle on the last one.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createServer, type EslEvent } from '../src/index.js';
import { Simulator } from '../src/testing/index.js';

it('call.execute with loops resolves on the last iteration, not the first', { timeout: 20_000 }, async () => {
  const server = createServer(async (call) => {
    await call.myevents();
    await call.answer();
    const completes: EslEvent[] = [];
    call.on('CHANNEL_EXECUTE_COMPLETE', (ev: EslEvent) => completes.push(ev));
    const done = await call.execute('playback', 'ivr/prompt.wav', { loops: 3, eventUuid: 'loop-app-uuid' });
    seen.resolve({ done, count: completes.filter((e) => e.applicationUuid === 'loop-app-uuid').length });
    await call.hangup();
  });
  let resolveSeen!: (v: { done: EslEvent; count: number }) => void;
  const seen = { promise: new Promise<{ done: EslEvent; count: number }>((r) => (resolveSeen = r)), resolve: (v: { done: EslEvent; count: number }) => resolveSeen(v) };
  const { port } = await server.listen({ port: 0 });
  // Each iteration must last >= 0.5 s or FreeSWITCH stops looping early. Real time, not a scaled
  // one: the tracker measures iterations by Event-Date-Timestamp, as it must against FreeSWITCH.
  const sim = await Simulator.start({ playbackMs: 600 });
  try {
    await sim.originate({ direction: 'inbound', destination: '5000', socket: { port, async: true, full: true } });
    const { done, count } = await seen.promise;
    assert.equal(count, 3, 'all three iterations completed before execute resolved');
    assert.equal(done.get('variable_current_loop'), '3');
    assert.equal(done.get('variable_total_loops'), '3');
  } finally {
    await server.destroy();
    await sim.stop();
  }
});

it('call.execute with loops: 0 is refused at once (FreeSWITCH would run nothing and never complete)', { timeout: 20_000 }, async () => {
  let resolveErr!: (e: unknown) => void;
  const got = new Promise<unknown>((r) => (resolveErr = r));
  const server = createServer(async (call) => {
    resolveErr(await call.execute('playback', 'ivr/prompt.wav', { loops: 0 }).catch((e: unknown) => e));
    await call.hangup();
  });
  const { port } = await server.listen({ port: 0 });
  const sim = await Simulator.start();
  try {
    await sim.originate({ direction: 'inbound', destination: '5000', socket: { port, async: true, full: true } });
    const err = (await got) as { code?: string };
    assert.equal(err.code, 'ESL_INVALID_ARGUMENT');
  } finally {
    await server.destroy();
    await sim.stop();
  }
});
