/**
 * Bidirectional copy between the client's stream and an upstream connection, for
 * StreamingRuntime.portForward implementations.
 */
import type { Duplex } from 'node:stream';

/**
 * Copy client → upstream and upstream → client, passing each half-close on (end() of the
 * other side). Resolves once both directions have ended, or as soon as either side is
 * destroyed / fails or `signal` aborts (then upstream is destroyed). Rejects only if upstream
 * fails before it sent anything, with that error (e.g. ECONNREFUSED), so the caller can report
 * it to the client.
 */
export function relay(client: Duplex, upstream: Duplex, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let clientEnded = false;
    let upstreamEnded = false;
    let upstreamSentData = false;
    let settled = false;
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      client.unpipe(upstream);
      upstream.unpipe(client);
      if (err || !(clientEnded && upstreamEnded)) upstream.destroy();
      if (err && !upstreamSentData) reject(err);
      else resolve();
    };
    const onAbort = (): void => settle();
    if (signal.aborted) {
      settle();
      return;
    }
    signal.addEventListener('abort', onAbort);
    upstream.once('data', () => (upstreamSentData = true));
    client.once('end', () => {
      clientEnded = true;
      if (upstreamEnded) settle();
    });
    upstream.once('end', () => {
      upstreamEnded = true;
      if (clientEnded) settle();
    });
    client.once('close', () => settle());
    upstream.once('close', () => settle());
    client.once('error', (err) => settle(err));
    upstream.once('error', (err) => settle(err));
    client.pipe(upstream);
    upstream.pipe(client);
  });
}
