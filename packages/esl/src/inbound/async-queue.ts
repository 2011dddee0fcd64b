/** A bounded single-consumer async iterator with an overflow policy: the buffer behind the client's streams. */
/** What a bounded stream does when its consumer falls behind. */
export type OverflowPolicy = 'pause' | 'drop' | 'drop-oldest';

export interface AsyncQueueHooks {
  /** Stop the producer (e.g. pause the socket); called once per full episode. */
  pause?(): void;
  /** Let the producer go again. */
  resume?(): void;
  /** The consumer is done (break, return, abort) or the producer ended: unregister. Called once. */
  detach(): void;
}

interface Waiter<T> {
  resolve(result: IteratorResult<T>): void;
  reject(err: unknown): void;
}

/**
 * A bounded single-consumer async iterator fed by push().
 *
 * - 'pause': never loses an item. At `capacity` buffered items it asks the producer to pause and
 *   asks it to resume once the consumer has drained the buffer to half. Items that were already
 *   in flight when the pause took effect (the rest of one socket read) are still accepted, so the
 *   buffer may exceed `capacity` by that much.
 * - 'drop': at `capacity`, new items are discarded and counted in `dropped`.
 * - 'drop-oldest': at `capacity`, the oldest buffered item is discarded and counted.
 *
 * `end(err?)` lets the consumer drain what is buffered, then finishes (or throws `err` once).
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  /** Items discarded because the buffer was full ('drop' and 'drop-oldest' policies). */
  dropped = 0;
  private items: Array<T | undefined> = [];
  private head = 0;
  private readonly waiters: Array<Waiter<T>> = [];
  private finished = false;
  private failure: unknown;
  private hasFailure = false;
  private pausedProducer = false;
  private detached = false;

  constructor(
    readonly capacity: number,
    readonly overflow: OverflowPolicy,
    private readonly hooks: AsyncQueueHooks,
  ) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1');
  }

  /** Items buffered and not yet taken by the consumer. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** True once ended (by the producer or the consumer). */
  get closed(): boolean {
    return this.finished;
  }

  push(item: T): void {
    if (this.finished) return;
    const w = this.waiters.shift();
    if (w !== undefined) {
      w.resolve({ value: item, done: false });
      return;
    }
    const size = this.size;
    if (size >= this.capacity) {
      if (this.overflow === 'drop') {
        this.dropped++;
        return;
      }
      if (this.overflow === 'drop-oldest') {
        this.items[this.head++] = undefined;
        this.dropped++;
      }
    }
    this.items.push(item);
    if (this.overflow === 'pause' && !this.pausedProducer && this.size >= this.capacity) {
      this.pausedProducer = true;
      this.hooks.pause?.();
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head] as T;
      this.items[this.head++] = undefined;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      if (this.pausedProducer && this.size <= this.capacity >> 1) this.releaseProducer();
      return Promise.resolve({ value, done: false });
    }
    if (this.hasFailure) {
      const err = this.failure;
      this.hasFailure = false;
      this.failure = undefined;
      return Promise.reject(err);
    }
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** The consumer stops (also what `break` in for-await calls): buffered items are discarded. */
  return(): Promise<IteratorResult<T>> {
    this.items = [];
    this.head = 0;
    this.hasFailure = false;
    this.failure = undefined;
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** The producer is done: buffered items can still be read, then the iterator ends or throws `err`. */
  end(err?: unknown): void {
    if (this.finished) return;
    if (err !== undefined) {
      const w = this.waiters.shift();
      if (w !== undefined) w.reject(err);
      else {
        this.failure = err;
        this.hasFailure = true;
      }
    }
    this.finish();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    this.finished = true;
    this.releaseProducer();
    for (const w of this.waiters.splice(0)) w.resolve({ value: undefined, done: true });
    if (!this.detached) {
      this.detached = true;
      this.hooks.detach();
    }
  }

  private releaseProducer(): void {
    if (!this.pausedProducer) return;
    this.pausedProducer = false;
    this.hooks.resume?.();
  }
}
