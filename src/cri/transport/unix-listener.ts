/**
 * The CRI unix socket: accepts connections on a net.Server (mode 0660, parent dirs made,
 * a stale socket replaced only when nobody answers on it) and hands each one to grpc-js
 * through a connection injector, with the client→server bytes passed through
 * AuthorityRewriter (see authority-filter.ts for why).
 */
import net from 'node:net';
import { Duplex } from 'node:stream';
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AuthorityRewriter } from './authority-filter.js';
import { failedPrecondition, isNotFoundErrno } from '../../util/errors.js';

/** A Duplex whose readable side is the filtered socket input and writable side the socket. */
class FilteredConnection extends Duplex {
  constructor(private readonly socket: net.Socket) {
    super({ allowHalfOpen: false });
    const filter = new AuthorityRewriter();
    socket.pipe(filter);
    filter.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    filter.on('end', () => this.push(null));
    filter.on('error', (err) => this.destroy(err));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }
  override _read(): void {
    this.socket.resume();
  }
  override _write(chunk: Buffer, enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.socket.write(chunk, enc, cb);
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end(cb);
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}

/** Is something accepting connections on this unix socket path? */
export function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(path);
    const done = (v: boolean) => {
      c.destroy();
      resolve(v);
    };
    c.setTimeout(timeoutMs, () => done(true)); // connected-but-silent still counts as alive
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
  });
}

/** Remove a stale socket file, refusing when another process still listens on it. */
export async function claimSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o750 });
  try {
    const st = await stat(path);
    if (!st.isSocket()) throw failedPrecondition(`${path} exists and is not a socket; remove it or choose another listen path`);
  } catch (err) {
    if (isNotFoundErrno(err)) return;
    throw err;
  }
  if (await socketAnswers(path)) {
    throw failedPrecondition(`another process is listening on ${path} (is berthd already running?)`);
  }
  await rm(path, { force: true });
}

export interface UnixListener {
  path: string;
  /** Stop accepting (existing connections stay until `destroyConnections`). */
  close(): Promise<void>;
  destroyConnections(): void;
}

/** Listen on `path` and inject each (filtered) connection with `inject`. */
export async function listenUnix(path: string, inject: (conn: Duplex) => void, mode = 0o660): Promise<UnixListener> {
  await claimSocketPath(path);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    inject(new FilteredConnection(socket));
  });
  // Bind under a umask that already yields `mode`, so the socket is never briefly wider.
  const oldUmask = process.umask(0o777 & ~mode);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(oldUmask);
  }
  await chmod(path, mode);
  return {
    path,
    // net.Server.close() waits for every connection to end (a kubelet never hangs up), so
    // only stop listening here; the caller drains and then destroys what is left.
    close: async () => {
      server.close();
      await rm(path, { force: true }).catch(() => {});
    },
    destroyConnections: () => {
      for (const s of sockets) s.destroy();
    },
  };
}

/** "unix:///run/x.sock" | "unix:/run/x.sock" | "/run/x.sock" → "/run/x.sock". */
export function unixPathOf(listen: string): string {
  if (listen.startsWith('unix://')) return listen.slice('unix://'.length);
  if (listen.startsWith('unix:')) return listen.slice('unix:'.length);
  return listen;
}
