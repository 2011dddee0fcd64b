/**
 * `freeswitch-esl/testing`: a FreeSWITCH 1.10 stand-in for tests. It speaks mod_event_socket
 * byte-compatibly, inbound (clients connect to `sim.host:sim.port`) and outbound (the `socket`
 * application connects to your program), and runs simulated calls that fire the real event
 * sequences and header sets.
 *
 * ```ts
 * import { Simulator } from 'freeswitch-esl/testing';
 *
 * const sim = await Simulator.start({
 *   password: 'ClueCon',
 *   timeScale: 0.01, // sleep/playback/timeouts run 100x faster
 *   dialplan: { '7001': { socket: '127.0.0.1:8084 async full' } },
 *   farEnds: { '2000': { answerAfterMs: 200, hangupAfterMs: 1000 } },
 * });
 * // Inbound: connect a client to sim.host / sim.port.
 * // A call that arrives and runs the dialplan for 7001 (outbound socket to your server):
 * const uuid = await sim.originate({ direction: 'inbound', destination: '7001', variables: { account: '42' } });
 * // A call FreeSWITCH places (the far end answers after 50 ms), then parks:
 * const other = await sim.originate({ app: 'park', answerAfterMs: 50 });
 * sim.on('event', (ev) => console.log(ev.name));
 * sim.hangup(other, 'NORMAL_CLEARING');
 * await sim.stop();
 * ```
 *
 * Dial strings understood by originate/bridge: `loopback/<exten>[/<context>]` (two legs, B runs
 * the dialplan), `sim/<number>[/answer-after-<ms>][/hangup-after-<ms>][/busy][/no-answer]
 * [/reject-<CAUSE>][/early-media]`, `user/…`, `sofia/…` (scripted by `farEnds[number]`),
 * `error/<cause>`; `{a=b,c='d e'}` variable prefixes and `|` fallbacks.
 */
export { Simulator } from './simulator.js';
export type { OriginateOptions, SimulatorEvents } from './simulator.js';
export type { LogMeta } from './log.js';
export type { SimulatorOptions, DialplanEntry, FarEndScript, SocketTarget, EslUser } from './options.js';
export type { Channel, ChannelInfo } from './channel.js';
export type { ChannelState, CallState } from './states.js';
export type { ApiHandler, ApiHost } from './api.js';
export type { AppFunction } from './engine.js';
export { SimEvent } from './events.js';
export { HANGUP_CAUSES } from './causes.js';
