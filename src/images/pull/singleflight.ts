/**
 * Deduplicate identical concurrent work: the first caller of a key starts it, later callers
 * of the same key join it and get the same result and the same progress events. Each caller
 * may cancel with its own signal — it then stops waiting (CANCELLED); the work itself is
 * aborted only when every caller has cancelled, and the last caller's rejection waits until
 * the aborted work has settled (so nothing it writes appears after the caller gave up).
 */
import { cancelledError } from '../cancel.js';

export { cancelledError, isCancelled } from '../cancel.js';

export interface Caller<E> {
  onEvent?: (event: E) => void;
  signal?: AbortSignal;
}

interface Flight<T, E> {
  promise: Promise<T>;
  listeners: Set<(event: E) => void>;
  controller: AbortController;
  waiting: number;
}

export class SingleFlight<T, E = never> {
  private readonly flights = new Map<string, Flight<T, E>>();

  /** Number of distinct pieces of work in progress. */
  get size(): number {
    return this.flights.size;
  }

  has(key: string): boolean {
    return this.flights.has(key);
  }

  /** Abort everything in progress (daemon shutdown). */
  abortAll(): void {
    for (const f of this.flights.values()) f.controller.abort();
  }

  run(key: string, caller: Caller<E>, work: (signal: AbortSignal, emit: (event: E) => void) => Promise<T>): Promise<T> {
    if (caller.signal?.aborted) return Promise.reject(cancelledError(key));
    let flight = this.flights.get(key);
    if (!flight) {
      const listeners = new Set<(event: E) => void>();
      const controller = new AbortController();
      const emit = (e: E) => {
        for (const l of listeners) {
          try {
            l(e);
          } catch {
            // A listener's failure is its own business.
          }
        }
      };
      const f: Flight<T, E> = { listeners, controller, waiting: 0, promise: undefined as unknown as Promise<T> };
      f.promise = Promise.resolve()
        .then(() => work(controller.signal, emit))
        .finally(() => {
          if (this.flights.get(key) === f) this.flights.delete(key);
        });
      f.promise.catch(() => {});
      this.flights.set(key, f);
      flight = f;
    }
    return this.join(key, flight, caller);
  }

  private join(key: string, flight: Flight<T, E>, caller: Caller<E>): Promise<T> {
    flight.waiting++;
    const listener = caller.onEvent;
    if (listener) flight.listeners.add(listener);
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const leave = () => {
        if (done) return false;
        done = true;
        if (listener) flight.listeners.delete(listener);
        caller.signal?.removeEventListener('abort', onAbort);
        flight.waiting--;
        return true;
      };
      const onAbort = () => {
        if (!leave()) return;
        if (flight.waiting > 0) return reject(cancelledError(key));
        // The last caller left: stop the work and let it clean up before reporting, so a
        // cancelled caller never races with leftovers of its own work.
        flight.controller.abort();
        flight.promise.then(
          () => reject(cancelledError(key)),
          () => reject(cancelledError(key)),
        );
      };
      caller.signal?.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (v) => leave() && resolve(v),
        (e) => leave() && reject(e),
      );
    });
  }
}
