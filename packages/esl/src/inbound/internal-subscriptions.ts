/** The inbound client's hidden subscriptions (the events its bgapi and execute waiters need) and its per-operation filters. */
import type { CommandOptions } from '../commands/options.js';
import { wordsAfterCommand } from '../commands/command-layer.js';
import { commands, serializeCommand } from '../protocol/serializer.js';
import type { Link, OperationFilter } from './link.js';
import { type FilterModel, normalizeEventName } from './subscriptions.js';

/** Sends a command/reply command on a link; `-ERR` rejects with EslCommandError. */
export type LinkSender = (link: Link, bytes: Buffer, text: string, options?: CommandOptions) => Promise<string>;

/**
 * What the library subscribes to for its own needs, kept out of the user's view: the client
 * emits only what the user subscribed to, and the user's nixevent/noevents/filter commands are
 * rewritten on the wire so they never take these events away from a pending waiter.
 */
export class InternalSubscriptions {
  /** Event types the library subscribed to for its own needs (grows, never shrinks). */
  readonly types = new Set<string>();

  constructor(
    /** The autoSubscribe option. */
    private readonly enabled: boolean,
    private readonly send: LinkSender,
    /** The user's filters (read only). */
    private readonly userFilters: FilterModel,
    private readonly report: (err: Error) => void,
  ) {}

  /**
   * Makes sure the link receives the given event types for the library's own use (first bgapi or
   * execute). Resolves when the subscription is confirmed; undefined if nothing needed sending.
   */
  ensure(link: Link, types: readonly string[]): Promise<void> | undefined {
    if (!this.enabled) return undefined;
    for (const t of types) this.types.add(t);
    const missing = types.filter((t) => !link.wire.hasType(t));
    let sent: Promise<void> | undefined;
    if (missing.length > 0) {
      const bytes = commands.event(link.wire.format, missing);
      link.wire.applyEvent(wordsAfterCommand(bytes));
      const p = this.send(link, bytes, `event ${link.wire.format} ${missing.join(' ')}`).then(() => undefined);
      p.catch(() => {
        for (const t of missing) if (link.internalSubs.get(t) === p) link.internalSubs.delete(t);
      });
      for (const t of missing) link.internalSubs.set(t, p);
      sent = p;
    }
    const waits = types.map((t) => link.internalSubs.get(t)).filter((p): p is Promise<void> => p !== undefined);
    if (waits.length === 0) return undefined;
    if (waits.length === 1 && waits[0] === sent) return sent;
    return Promise.all(waits).then(() => undefined);
  }

  /** The library's types again, on a link that has none yet (a fresh connection after reconnect). */
  restore(link: Link): Promise<void> | undefined {
    return this.types.size > 0 ? this.ensure(link, [...this.types]) : undefined;
  }

  /** `nixevent <words>` (already applied to the user's model), keeping the library's types on the wire. */
  nixevent(link: Link, bytes: Buffer, words: readonly string[], options?: CommandOptions): Promise<string> {
    if (this.types.size === 0) {
      link.wire.applyNixevent(words);
      return this.send(link, bytes, bytes.toString('utf8').trim(), options);
    }
    const customAt = words.findIndex((w) => normalizeEventName(w) === 'CUSTOM');
    const typeWords = customAt === -1 ? words : words.slice(0, customAt);
    if (typeWords.some((w) => normalizeEventName(w) === 'ALL')) return this.clearKeeping(link, 'nixevent ALL', options);
    const kept = typeWords.filter((w) => !this.types.has(normalizeEventName(w)));
    const wire = customAt === -1 ? kept : [...kept, ...words.slice(customAt)];
    if (wire.length === 0) return Promise.resolve('+OK events nixed'); // nothing left to send: all were the library's
    link.wire.applyNixevent(wire);
    return this.send(link, serializeCommand(`nixevent ${wire.join(' ')}`), `nixevent ${wire.join(' ')}`, options);
  }

  /** `noevents` (already applied to the user's model), keeping the library's types on the wire. */
  noevents(link: Link, options?: CommandOptions): Promise<string> {
    if (this.types.size === 0) {
      link.wire.applyNoevents();
      return this.send(link, commands.noevents(), 'noevents', options);
    }
    return this.clearKeeping(link, 'noevents', options);
  }

  /**
   * noevents / nixevent ALL while the library needs some types. With a bgapi or execute pending,
   * FreeSWITCH's noevents would flush (and both would briefly stop) the events they wait for, so
   * the user's types are nixed one by one instead; otherwise the real command is sent and the
   * library's types are subscribed again right behind it.
   */
  private clearKeeping(link: Link, what: 'noevents' | 'nixevent ALL', options?: CommandOptions): Promise<string> {
    const busy = link.jobs.size > 0 || link.executions.size > 0;
    if (!busy) {
      const bytes = what === 'noevents' ? commands.noevents() : commands.nixevent(['ALL']);
      if (what === 'noevents') link.wire.applyNoevents();
      else link.wire.applyNixevent(['ALL']);
      link.internalSubs.clear();
      const reply = this.send(link, bytes, what, options);
      this.ensure(link, [...this.types])?.catch((err: Error) => this.report(err));
      return reply;
    }
    const types = link.wire.enabledTypes().filter((t) => t !== 'CUSTOM' && !this.types.has(t));
    const subclasses = link.wire.subclassList();
    const words = subclasses.length > 0 ? [...types, 'CUSTOM', ...subclasses] : types;
    if (words.length === 0) return Promise.resolve(what === 'noevents' ? '+OK no longer listening for events' : '+OK events nixed');
    link.wire.applyNixevent(words);
    return this.send(link, serializeCommand(`nixevent ${words.join(' ')}`), `nixevent ${words.join(' ')}`, options);
  }

  /**
   * Lets a pending operation's events (`header: value`) through the user's filters; returns what
   * removes that filter again when the operation settles.
   */
  guard(link: Link, header: string, value: string): () => void {
    const key = `${header}\0${value}`;
    const f: OperationFilter = { header, value, onWire: false };
    link.opFilters.set(key, f);
    if (this.userFilters.size > 0) this.sendGuard(link, f);
    return () => this.unguard(link, key);
  }

  /** Before the first user filter: pending operations would starve, so their filters go first. */
  beforeFirstUserFilter(link: Link): void {
    if (this.userFilters.size === 0) for (const f of link.opFilters.values()) if (!f.onWire) this.sendGuard(link, f);
  }

  /**
   * `filter delete <header> [<value>]` (already applied to the user's filters; `removed` are the
   * entries it took out), keeping the library's own filters in place while user filters remain.
   */
  filterDelete(link: Link, header: string, value: string | undefined, removed: ReadonlyArray<readonly [string, string]>, options?: CommandOptions): Promise<string> {
    const bytes = commands.filterDelete(header, value);
    const label = value === undefined ? `filter delete ${header}` : `filter delete ${header} ${value}`;
    const ours = [...link.opFilters.values()].filter((f) => f.onWire);
    if (ours.length === 0) return this.send(link, bytes, label, options);
    if (this.userFilters.size === 0) {
      // No user filter left: with no filter at all every event passes, so ours can go too.
      for (const f of ours) f.onWire = false;
      return this.send(link, commands.filterDelete('all'), 'filter delete all', options);
    }
    const h = header.toLowerCase();
    const touchesOurs = h === 'all' || ours.some((f) => f.header.toLowerCase() === h && (value === undefined || value === f.value));
    if (!touchesOurs) return this.send(link, bytes, label, options);
    // Delete the user's entries one by one so the library's stay in place.
    const pairs = new Map(removed.map(([rh, rv]) => [`${rh.toLowerCase()}\0${rv}`, [rh, rv] as const]));
    if (pairs.size === 0) return Promise.resolve(`+OK filter deleted. [${header}][${value ?? ''}]`);
    const replies = [...pairs.values()].map(([rh, rv]) => this.send(link, commands.filterDelete(rh, rv), `filter delete ${rh} ${rv}`, options));
    return Promise.all(replies).then((texts) => texts[texts.length - 1]!);
  }

  private sendGuard(link: Link, f: OperationFilter): void {
    f.onWire = true;
    this.send(link, commands.filter(f.header, f.value), `filter ${f.header} ${f.value}`).catch(() => undefined);
  }

  private unguard(link: Link, key: string): void {
    const f = link.opFilters.get(key);
    if (f === undefined) return;
    link.opFilters.delete(key);
    if (f.onWire && !link.conn.closed) {
      this.send(link, commands.filterDelete(f.header, f.value), `filter delete ${f.header}`).catch(() => undefined);
    }
  }
}
