/**
 * Every timer the simulator starts goes through here, so `stop()` can cancel all of them and the
 * test runner never waits on a forgotten timer.
 */
export class TimerSet {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sleepers = new Set<() => void>();
  private stopped = false;

  /** setTimeout that is cancelled by `clear()`. Unref'd: a simulator never keeps the process alive by itself. */
  set(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, Math.max(0, ms));
    t.unref();
    this.timers.add(t);
    return t;
  }

  cancel(t: NodeJS.Timeout | undefined): void {
    if (t === undefined) return;
    clearTimeout(t);
    this.timers.delete(t);
  }

  /** setInterval equivalent (re-arming timeout), cancelled by `clear()` or the returned function. */
  every(fn: () => void, ms: number): () => void {
    let current: NodeJS.Timeout | undefined;
    let active = true;
    const arm = (): void => {
      current = this.set(() => {
        if (!active) return;
        fn();
        arm();
      }, ms);
    };
    arm();
    return () => {
      active = false;
      this.cancel(current);
    };
  }

  /**
   * Resolves after `ms`, or early when `wake` is called (the returned promise then resolves with
   * false). Resolves at once with false after `clear()`.
   */
  sleep(ms: number, register?: (wake: () => void) => () => void): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      let done = false;
      let unregister: (() => void) | undefined;
      const finish = (full: boolean): void => {
        if (done) return;
        done = true;
        this.cancel(timer);
        this.sleepers.delete(wakeAll);
        unregister?.();
        resolve(full);
      };
      const wakeAll = (): void => finish(false);
      const timer = Number.isFinite(ms) ? this.set(() => finish(true), ms) : undefined;
      this.sleepers.add(wakeAll);
      unregister = register?.(wakeAll);
    });
  }

  /** Cancels every pending timer and wakes every sleeper. */
  clear(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const wake of [...this.sleepers]) wake();
    this.sleepers.clear();
  }
}
