/**
 * `freeswitch-esl/testing`: a FreeSWITCH 1.10 simulator (mod_event_socket inbound and outbound,
 * simulated calls) for testing ESL clients and outbound-socket programs without a real switch.
 */
export { Simulator } from './simulator.js';
export type { OriginateOptions, LogMeta, SimulatorEvents } from './simulator.js';
export type { SimulatorOptions, DialplanEntry, FarEndScript, SocketTarget, EslUser } from './options.js';
export type { ChannelInfo, ChannelState, CallState } from './channel.js';
export type { ApiHandler } from './api.js';
export type { AppFunction } from './engine.js';
export { SimEvent } from './events.js';
export { HANGUP_CAUSES } from './causes.js';
