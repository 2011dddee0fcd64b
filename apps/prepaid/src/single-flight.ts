/** Coalesces concurrent calls of one async function: at most one run in progress and one queued. */
export class SingleFlight<T> {
  private running: Promise<T> | undefined;
  private queued: Promise<T> | undefined;
  constructor(private readonly fn: () => Promise<T>) {}
  get idle(): boolean {
    return this.running === undefined && this.queued === undefined;
  }
  /**
   * A caller arriving while a run is in progress waits for the next one, which starts after the
   * running one ends: its answer still reflects everything the caller finished before asking.
   */
  run(): Promise<T> {
    if (!this.running) return this.start();
    if (!this.queued) {
      const settled = () => {};
      this.queued = this.running.then(settled, settled).then(() => {
        this.queued = undefined;
        return this.start();
      });
    }
    return this.queued;
  }
  private start(): Promise<T> {
    const p = this.fn();
    this.running = p;
    const clear = () => {
      if (this.running === p) this.running = undefined;
    };
    p.then(clear, clear);
    return p;
  }
}

/** One SingleFlight per key (an account), dropped once idle. */
export class KeyedSingleFlight<T> {
  private readonly flights = new Map<string, SingleFlight<T>>();
  run(key: string, fn: () => Promise<T>): Promise<T> {
    let flight = this.flights.get(key);
    if (!flight) {
      flight = new SingleFlight(fn);
      this.flights.set(key, flight);
    }
    const result = flight.run();
    const done = () => {
      if (flight.idle && this.flights.get(key) === flight) this.flights.delete(key);
    };
    result.then(done, done);
    return result;
  }
}
