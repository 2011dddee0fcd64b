/**
 * Type-level checks of the typed events of the call session and the client: compiled with the
 * build under --strict and never run. Each `@ts-expect-error` line must fail to compile; if the
 * typing regressed so that it compiled, tsc reports the directive as unused and the build fails.
 */
import type { CallSession, EslClient, EslEvent } from '../src/index.js';

export function callSessionEvents(call: CallSession): void {
  call.on('CHANNEL_ANSWER', (ev) => {
    const name: string = ev.name;
    void name;
  });
  // @ts-expect-error an event's name is a string
  call.on('CHANNEL_ANSWER', (ev) => { const n: number = ev.name; void n; });
  // @ts-expect-error a misspelled session event
  call.on('disconect-notice', () => {});
  call.on('disconnect-notice', (notice) => {
    const disposition: string = notice.disposition;
    const linger: number | undefined = notice.lingerTime;
    void disposition;
    void linger;
  });
  // @ts-expect-error the notice's disposition is a string
  call.on('disconnect-notice', (notice) => { const d: number = notice.disposition; void d; });
  call.once('end', (end) => {
    const reason: 'linger' | 'disconnect' | 'exit' | 'closed' | 'error' = end.reason;
    void reason;
  });
  // @ts-expect-error 'end' carries a CallEnd, not an event
  call.on('end', (end: EslEvent) => void end);
  call.on('hangup', (info) => void info.cause);
  call.on('CUSTOM sofia::register', (ev) => void ev.subclass);
  // A name known only at run time is still accepted.
  const dynamic: string = 'CHANNEL_' + 'HANGUP';
  call.off(dynamic, () => {});
}

export function clientEvents(client: EslClient): void {
  // @ts-expect-error an event's name is a string
  client.on('CHANNEL_ANSWER', (ev) => { const n: number = ev.name; void n; });
  // @ts-expect-error a misspelled client event
  client.on('reconect', () => {});
  client.on('reconnecting', (attempt) => void attempt.delay);
  client.on('state', (state, info) => void [state, info.previous]);
}

export async function sharedCommands(call: CallSession, client: EslClient): Promise<void> {
  // The same command layer: bgapi resolves with the body on both.
  const fromCall: string = await call.bgapi('status', { raw: true, timeout: 1000 });
  const fromClient: string = await client.bgapi('status', { raw: true, timeout: 1000 });
  void [fromCall, fromClient];
  // @ts-expect-error bgapi no longer resolves with { jobUuid, result }
  void (await call.bgapi('status')).jobUuid;
  await call.log('INFO');
  await call.unsubscribe('CHANNEL_ANSWER');
  await call.sendevent('CUSTOM', { 'Event-Subclass': 'x::y' });
}
