/**
 * Let the event loop run pending I/O callbacks (CRI calls, timers) before going on: for long
 * loops of synchronous work, such as a QoS step's cgroupfs reads over every pod.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
