/**
 * Port-forward into a pod's network namespace. Node cannot setns(2), so each forwarded
 * connection runs `nsenter --net=<netns> busybox nc 127.0.0.1 <port>` and relays the client's
 * stream through the child's stdin/stdout. busybox nc half-closes the TCP connection when its
 * stdin ends and exits when the server closes, so half-closes pass through both ways.
 *
 * Cost per forwarded connection: one fork + two execs (nsenter, then busybox) and ~1 MB of
 * memory while it lasts; about 10 ms before the first byte can flow on this machine. Data
 * then takes two extra pipe hops.
 */
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { unavailable } from '../util/errors.js';
import { relay } from './relay.js';

export interface NetnsDialOptions {
  nsenter?: string;
  busybox?: string;
}

/**
 * Relay `conn` to 127.0.0.1:`port` inside the network namespace at `netnsPath` (a bind-mounted
 * netns file such as /run/netns/<name>, or /proc/<pid>/ns/net). Resolves when the
 * connection is over; rejects with an UNAVAILABLE error naming the port and namespace when
 * nothing listens there.
 */
export async function portForwardInNetns(
  netnsPath: string,
  port: number,
  conn: Duplex,
  signal: AbortSignal,
  o: NetnsDialOptions = {},
): Promise<void> {
  const child = spawn(o.nsenter ?? 'nsenter', [`--net=${netnsPath}`, o.busybox ?? '/bin/busybox', 'nc', '127.0.0.1', String(port)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  child.stdin.on('error', () => {}); // EPIPE when nc exits while the client still writes
  const exited = new Promise<{ code: number | null; spawnError?: Error }>((resolve) => {
    child.once('error', (err) => resolve({ code: null, spawnError: err }));
    child.once('close', (code) => resolve({ code }));
  });
  const upstream = Duplex.from({ readable: child.stdout, writable: child.stdin });
  let gotData = false;
  child.stdout.once('data', () => (gotData = true));
  // The relay ends with the client or when nc exits (then nothing more can go upstream).
  const ncGone = new AbortController();
  const relayed = relay(conn, upstream, AbortSignal.any([signal, ncGone.signal]))
    .catch(() => {}) // the exit status below says more than a pipe error
    .then(() => {
      if (child.exitCode === null && child.signalCode === null && (signal.aborted || conn.destroyed)) child.kill('SIGKILL');
    });
  const { code, spawnError } = await exited;
  ncGone.abort();
  await relayed;
  const where = `127.0.0.1:${port} in network namespace ${netnsPath}`;
  if (spawnError) throw unavailable(`cannot forward to ${where}: ${spawnError.message}`, spawnError);
  if (code !== 0 && !gotData && !signal.aborted) {
    throw unavailable(`cannot connect to ${where}: ${stderr.trim() || `nc exited with status ${code}`}`);
  }
}
