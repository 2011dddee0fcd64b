/** Emitting to user listeners without letting a throwing listener unwind into the library's own bookkeeping. */
import type { EventEmitter } from 'node:events';

/**
 * Calls `emitter.emit(name, ...args)`. A listener that throws does not unwind through the caller
 * (the parser mid-stream, a half-finished reconnect or close): its exception is rethrown on its
 * own in a microtask, as an uncaught exception, exactly as a throwing listener would surface
 * anywhere else in Node.
 */
export function emitSafely(emitter: EventEmitter, name: string | symbol, ...args: unknown[]): void {
  try {
    emitter.emit(name, ...args);
  } catch (err) {
    rethrowLater(err);
  }
}

/** Rethrows `err` on its own in a microtask, as an uncaught exception (see emitSafely). */
export function rethrowLater(err: unknown): void {
  queueMicrotask(() => {
    throw err;
  });
}
