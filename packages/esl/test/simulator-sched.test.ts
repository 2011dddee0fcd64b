/** The simulator's scheduler: api sched_hangup / sched_del, the sched_hangup application, execute_on_answer. */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import type { Simulator } from '../src/testing/index.js';
import { Wire, delay, startSim, until } from './helpers/simulator.js';

/** A parked, answered channel; resolves with its uuid. */
async function parked(w: Wire): Promise<string> {
  const r = await w.command('api originate sim/1000 &park');
  const m = /^\+OK (\S+)\n$/.exec(r.bodyText);
  assert.ok(m, r.bodyText);
  return m[1]!;
}

/** Resolves with [hangup cause, Date.now()] when the channel is destroyed. */
function destroyed(sim: Simulator, uuid: string): Promise<[string | undefined, number]> {
  return new Promise((resolve) => {
    sim.on('channelDestroy', (info: { uuid: string; hangupCause: string | undefined }) => {
      if (info.uuid === uuid) resolve([info.hangupCause, Date.now()]);
    });
  });
}

/** Waits until just after a whole second, so `+N` timing is measured from a known phase. */
async function justAfterSecond(): Promise<void> {
  await delay(1000 - (Date.now() % 1000) + 20);
}

test('api sched_hangup: mod_commands replies byte for byte', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  assert.equal((await w.command('api sched_hangup')).bodyText, '-USAGE: [+]<time> <uuid> [<cause>]\n');
  assert.equal((await w.command('api sched_hangup +10')).bodyText, '-ERR No such channel!\n');
  assert.equal((await w.command('api sched_hangup +10 no-such-uuid')).bodyText, '-ERR No such channel!\n');
  const uuid = await parked(w);
  assert.equal((await w.command(`api sched_hangup +100 ${uuid}`)).bodyText, '+OK\n');
  assert.equal((await w.command(`api sched_hangup +200 ${uuid} USER_BUSY`)).bodyText, '+OK\n');
  // Every sched_hangup adds a task in the channel's uuid group; none replaces another.
  assert.deepEqual(sim.scheduler.pending(uuid).map((p) => p.desc), ['switch_ivr_schedule_hangup', 'switch_ivr_schedule_hangup']);
  assert.equal((await w.command('api sched_del')).bodyText, '-ERR Invalid syntax\n');
  assert.equal((await w.command('api sched_del no-such-group')).bodyText, '+OK Deleted: 0\n');
  assert.equal((await w.command(`api sched_del ${uuid}`)).bodyText, '+OK Deleted: 2\n');
  assert.equal((await w.command(`api sched_del ${uuid}`)).bodyText, '+OK Deleted: 0\n');
  // By task id: only that one.
  await w.command(`api sched_hangup +100 ${uuid}`);
  await w.command(`api sched_hangup +100 ${uuid}`);
  const [first, second] = sim.scheduler.pending(uuid);
  assert.equal((await w.command(`api sched_del ${first!.id}`)).bodyText, '+OK Deleted: 1\n');
  assert.equal((await w.command(`api sched_del ${first!.id}`)).bodyText, '+OK Deleted: 0\n');
  assert.deepEqual(sim.scheduler.pending(uuid).map((p) => p.id), [second!.id]);
  // The channel's tasks go when it is destroyed (switch_core_session_perform_destroy).
  const gone = destroyed(sim, uuid);
  await w.command(`api uuid_kill ${uuid}`);
  await gone;
  assert.deepEqual(sim.scheduler.pending(uuid), []);
  w.close();
});

test('api sched_hangup: whole seconds by atol, so +0.5 hangs up at once; the cause is parsed as str2cause does', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  const a = await parked(w);
  const aGone = destroyed(sim, a);
  const asked = Date.now();
  assert.equal((await w.command(`api sched_hangup +0.5 ${a}`)).bodyText, '+OK\n');
  const [causeA, atA] = await aGone;
  assert.equal(causeA, 'ALLOTTED_TIMEOUT');
  assert.ok(atA - asked < 300, `+0.5 reads as +0: at once (${atA - asked} ms)`);
  const b = await parked(w);
  const bGone = destroyed(sim, b);
  await w.command(`api sched_hangup +0 ${b} no_such_cause`);
  assert.equal((await bGone)[0], 'NORMAL_CLEARING', 'an unknown cause name is NORMAL_CLEARING');
  const c = await parked(w);
  const cGone = destroyed(sim, c);
  await w.command(`api sched_hangup +0 ${c} 17`);
  assert.equal((await cGone)[0], 'USER_BUSY', 'a number is a cause code');
  w.close();
});

test('api sched_hangup +N runs when the whole epoch second reaches now + N; an absolute second likewise', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, { timeScale: 0.01 });
  const w = await Wire.login(sim);
  await w.command('event plain ADD_SCHEDULE DEL_SCHEDULE');
  const a = await parked(w);
  const b = await parked(w);
  await justAfterSecond();
  const base = Math.floor(Date.now() / 1000);
  const aGone = destroyed(sim, a);
  const bGone = destroyed(sim, b);
  await w.command(`api sched_hangup +2 ${a}`);
  await w.command(`api sched_hangup ${base + 1} ${b} MANAGER_REQUEST`);
  const add = await w.event((e) => e.name === 'ADD_SCHEDULE' && e.get('Task-Group') === a);
  assert.equal(add.get('Task-Desc'), 'switch_ivr_schedule_hangup');
  assert.equal(add.get('Task-Runtime'), String(base + 2));
  assert.match(add.get('Task-ID') ?? '', /^\d+$/);
  const [causeB, atB] = await bGone;
  assert.equal(causeB, 'MANAGER_REQUEST');
  // Not before its second; the scheduler looks every 0.5 s (switch_scheduler_task_thread). The
  // scheduler is on the wall clock: timeScale does not speed it up.
  assert.ok(atB >= (base + 1) * 1000 && atB < (base + 1) * 1000 + 900, `absolute: ran at +${atB - base * 1000} ms`);
  const [causeA, atA] = await aGone;
  assert.equal(causeA, 'ALLOTTED_TIMEOUT');
  assert.ok(atA >= (base + 2) * 1000 && atA < (base + 2) * 1000 + 900, `+2: ran at +${atA - base * 1000} ms`);
  await w.event((e) => e.name === 'DEL_SCHEDULE' && e.get('Task-Group') === a);
  w.close();
});

test('the sched_hangup application and execute_on_answer', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t, {
    dialplan: {
      '6000': { actions: [['sched_hangup', '+0.9 CALL_REJECTED'], 'answer', 'park'] },
      '6001': { actions: ['set execute_on_answer=sched_hangup +2', ['sched_hangup', '+3600 NORMAL_CLEARING'], 'answer', 'park'] },
    },
  });
  const w = await Wire.login(sim);
  const one = crypto.randomUUID();
  const oneGone = destroyed(sim, one);
  await sim.originate({ uuid: one, direction: 'inbound', destination: '6000' });
  assert.equal((await oneGone)[0], 'CALL_REJECTED', '+0.9 is +0: hung up at once');

  await justAfterSecond();
  const base = Math.floor(Date.now() / 1000);
  const two = crypto.randomUUID();
  const gone = destroyed(sim, two);
  await sim.originate({ uuid: two, direction: 'inbound', destination: '6001' });
  await until(() => sim.scheduler.pending(two).length === 2, 3000, 'both tasks');
  // The answer-time task comes first: +2 from the answer.
  assert.equal(sim.scheduler.pending(two)[0]!.runtime, base + 2);
  const [cause, at] = await gone;
  assert.equal(cause, 'ALLOTTED_TIMEOUT');
  assert.ok(at >= (base + 2) * 1000, `ran at +${at - base * 1000} ms`);
  w.close();
});

test('the task list: tasks due in the same second run in the order they were added; a group deleted leaves the others; a task that deletes its own group is deleted once', { timeout: 20_000 }, async (t) => {
  const sim = await startSim(t);
  const w = await Wire.login(sim);
  await w.command('event plain DEL_SCHEDULE');
  const ran: string[] = [];
  const at = Math.floor(Date.now() / 1000) + 1;
  const groups = Array.from({ length: 50 }, (_, i) => `group-${i}`);
  // Added in an order that is not the groups' order, two tasks each.
  for (const g of [...groups].reverse()) sim.scheduler.add(at, 'first', g, () => ran.push(`${g} first`));
  for (const g of groups) sim.scheduler.add(at, 'second', g, () => ran.push(`${g} second`));
  assert.equal(sim.scheduler.deleteGroup('group-7'), 2);
  assert.equal(sim.scheduler.deleteGroup('group-7'), 0);
  assert.equal(sim.scheduler.pending().length, 98);
  const selfDeleting = sim.scheduler.add(at, 'self', 'own', () => {
    ran.push('own');
    sim.scheduler.deleteGroup('own');
  });
  await until(() => ran.length === 99, 3000);
  const expected = [
    ...[...groups].reverse().filter((g) => g !== 'group-7').map((g) => `${g} first`),
    ...groups.filter((g) => g !== 'group-7').map((g) => `${g} second`),
    'own',
  ];
  assert.deepEqual(ran, expected);
  assert.deepEqual(sim.scheduler.pending(), []);
  await w.count((e) => e.name === 'DEL_SCHEDULE', 101);
  await delay(600);
  const deletions = w.events().filter((e) => e.name === 'DEL_SCHEDULE' && e.get('Task-ID') === String(selfDeleting));
  assert.equal(deletions.length, 1);
  w.close();
});
