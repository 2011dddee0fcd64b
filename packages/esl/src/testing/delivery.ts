import { eventFrame } from '../protocol/event-serializer.js';
import type { EventFormat } from '../protocol/event.js';
import type { SimEvent } from './events.js';

/** What the delivery index needs to know about an ESL connection (implemented by Connection). */
export interface DeliveryTarget {
  readonly closed: boolean;
  /** UUID of the session the listener is bound to (outbound socket, inbound `myevents <uuid>`). */
  readonly sessionUuid: string | undefined;
  /** `myevents` on a bound session: only events of that session (or jobs it owns) can pass. */
  readonly sessionScoped: boolean;
  /** Event types the listener subscribed to ('ALL' included); empty while events are off. */
  readonly subscribedTypes: ReadonlySet<string>;
  /** `log` is on. */
  readonly logging: boolean;
  /** The full MES event_handler check and queueing. */
  offer(ev: SimEvent): void;
  offerLog(frame: Buffer, level: number): void;
}

const NO_TYPES: readonly string[] = [];

/**
 * Fan-out of events and log lines to the ESL connections. FreeSWITCH hands every event to every
 * listener (MES event_handler); doing that literally costs connections × events checks, each
 * scanning the event's headers. Here connections are indexed by what can reach them, and the full
 * check (`offer`: subscription, CUSTOM subclasses, filters, the myevents Unique-ID and
 * Job-Owner-UUID rules) runs only for those candidates, so what each connection receives is the
 * same as when every connection is asked.
 */
export class Delivery<C extends DeliveryTarget = DeliveryTarget> {
  /** Every connection bound to a session, by session UUID (whatever it subscribed to). */
  private readonly bySession = new Map<string, Set<C>>();
  /** Connections not limited to one session's events, by subscribed event type (and 'ALL'). */
  private readonly byType = new Map<string, Set<C>>();
  private readonly indexed = new Map<C, { session: string | undefined; types: readonly string[] }>();
  private readonly loggers = new Set<C>();

  /** (Re)indexes a connection after its session, subscriptions or log state changed. */
  update(c: C): void {
    const before = this.indexed.get(c);
    if (c.closed) {
      this.remove(c);
      return;
    }
    const session = c.sessionUuid;
    if (before?.session !== session) {
      if (before?.session !== undefined) this.unlink(this.bySession, before.session, c);
      if (session !== undefined) this.link(this.bySession, session, c);
    }
    // Session-scoped listeners are found through bySession; only the others go by type.
    const types = c.sessionScoped ? NO_TYPES : [...c.subscribedTypes];
    const old = before?.types ?? NO_TYPES;
    if (old.length > 0 || types.length > 0) {
      const keep = new Set(types);
      for (const t of old) if (!keep.has(t)) this.unlink(this.byType, t, c);
      for (const t of types) this.link(this.byType, t, c);
    }
    this.indexed.set(c, { session, types });
    if (c.logging) this.loggers.add(c);
    else this.loggers.delete(c);
  }

  /** Forgets a connection (it closed). */
  remove(c: C): void {
    const before = this.indexed.get(c);
    if (!before) return;
    if (before.session !== undefined) this.unlink(this.bySession, before.session, c);
    for (const t of before.types) this.unlink(this.byType, t, c);
    this.indexed.delete(c);
    this.loggers.delete(c);
  }

  /** Connections bound to a session (a snapshot: callers may close them while iterating). */
  forSession(uuid: string): C[] {
    const set = this.bySession.get(uuid);
    return set ? [...set] : [];
  }

  /** Offers an event to every connection that could take it. */
  deliver(ev: SimEvent): void {
    // switch_event_get_header is case-insensitive, as Connection.offer's own checks are.
    const uuid = ev.get('Unique-ID');
    if (uuid !== undefined) this.offerScoped(this.bySession.get(uuid), ev);
    // myevents also passes the BACKGROUND_JOB of a bgapi the session sent (MES event_handler).
    const owner = ev.get('Job-Owner-UUID');
    if (owner !== undefined && owner !== uuid) this.offerScoped(this.bySession.get(owner), ev);
    const all = this.byType.get('ALL');
    if (all) for (const c of all) c.offer(ev);
    const named = this.byType.get(ev.name);
    if (named) for (const c of named) if (!all?.has(c)) c.offer(ev);
  }

  /** True while some connection has `log` on. */
  get logging(): boolean {
    return this.loggers.size > 0;
  }

  /** Offers a log frame to every connection that ran `log`. */
  deliverLog(frame: Buffer, level: number): void {
    for (const c of this.loggers) c.offerLog(frame, level);
  }

  private offerScoped(set: Set<C> | undefined, ev: SimEvent): void {
    if (set) for (const c of set) if (c.sessionScoped) c.offer(ev);
  }

  private link(map: Map<string, Set<C>>, key: string, c: C): void {
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(c);
  }

  private unlink(map: Map<string, Set<C>>, key: string, c: C): void {
    const set = map.get(key);
    if (!set) return;
    set.delete(c);
    if (set.size === 0) map.delete(key);
  }
}

const frames = new WeakMap<SimEvent, Partial<Record<EventFormat, Buffer>>>();

/**
 * The text/event-<format> frame of an event, serialized once per format and shared by every
 * connection that receives it.
 */
export function cachedEventFrame(ev: SimEvent, format: EventFormat): Buffer {
  let byFormat = frames.get(ev);
  if (!byFormat) frames.set(ev, (byFormat = {}));
  return (byFormat[format] ??= eventFrame(format, ev.headers, ev.body));
}
