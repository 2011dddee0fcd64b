import type { Channel, PrivateMessage } from './channel.js';
import type { EventFactory, SimEvent } from './events.js';
import type { Scheduler } from './scheduler.js';
import type { TimerSet } from './timers.js';
import type { ResolvedOptions } from './options.js';

/** What channels and applications need from the simulator (implemented by Simulator). */
export interface SimCore {
  readonly options: ResolvedOptions;
  readonly factory: EventFactory;
  readonly timers: TimerSet;
  /** The core task scheduler (scheduled hangups). */
  readonly scheduler: Scheduler;
  readonly globalVars: Map<string, string>;
  readonly stopped: boolean;
  /** Per-channel callbacks run when scripted DTMF arrives (digit collectors, prompts). */
  readonly dtmfListeners: Map<Channel, () => void>;
  /** Delivers an event to every subscribed connection and to `on('event')` listeners. */
  fire(event: SimEvent): void;
  nextSessionId(): number;
  /** Registers a new channel (uuid lookup, `channels`). */
  channelCreated(ch: Channel): void;
  /** The channel with this uuid, if any (even one being destroyed). */
  channel(uuid: string): Channel | undefined;
  /** Ties the two legs of a loopback call: answer and hangup cross over. */
  linkLoopback(a: Channel, b: Channel): void;
  /** The other leg of a loopback pair, if any. */
  loopbackPeer(ch: Channel): Channel | undefined;
  channelAnswered(ch: Channel): void;
  /** A channel is being pre-answered (before its own CHANNEL_PROGRESS_MEDIA). */
  channelPreAnswered(ch: Channel): void;
  channelHungUp(ch: Channel): void;
  channelDestroyed(ch: Channel): void;
  /** Runs one sendmsg on a channel (switch_ivr_parse_event); `queued` for messages taken from the private queue. */
  runMessage(ch: Channel, msg: PrivateMessage, queued: boolean): Promise<void>;
  /** Emits a log line to `log` subscribers. */
  log(level: number, text: string, meta?: { file?: string; func?: string; line?: number; uuid?: string; clean?: boolean }): void;
}
