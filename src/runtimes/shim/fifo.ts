/**
 * FIFOs for shim stdio and the shim log. Node has no mkfifo(2), so we run mkfifo(1). Fifos are
 * opened non-blocking and wrapped in net.Socket so reads and writes go through epoll instead of
 * tying up libuv threadpool threads.
 *
 * Read ends are opened O_RDONLY|O_NONBLOCK *before* the shim opens its write end: Linux does not
 * report hang-up on a fifo until a writer has come and gone, so the socket waits quietly for the
 * shim and then sees EOF exactly when the shim closes its end (the process's output is complete).
 * Write ends (stdin) are opened O_RDWR|O_NONBLOCK so the open never fails for want of a reader;
 * the socket is write-only, so it never consumes its own data. (libuv adds O_CLOEXEC itself.)
 */
import { execFile } from 'node:child_process';
import { constants, lstat, open as openCb } from 'node:fs';
import { Socket } from 'node:net';
import { promisify } from 'node:util';
import { errnoCode, failedPrecondition, internal, messageOf } from '../../util/errors.js';

const execFileP = promisify(execFile);
const openP = promisify(openCb);
const lstatP = promisify(lstat);

/** Create a fifo at `path` (mode 0600); an existing fifo there is accepted as is. */
export async function mkfifo(path: string, mode = 0o600): Promise<void> {
  const existing = await lstatP(path).catch((err: unknown) => {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (existing) {
    if (existing.isFIFO()) return;
    throw failedPrecondition(`${path} exists and is not a fifo`);
  }
  try {
    await execFileP('mkfifo', ['-m', mode.toString(8), '--', path]);
  } catch (err) {
    // Lost a race with another creator: fine if what is there now is a fifo.
    const now = await lstatP(path).catch(() => undefined);
    if (now?.isFIFO()) return;
    throw internal(`mkfifo ${path} failed: ${(err as { stderr?: string }).stderr?.trim() || messageOf(err)}`, err);
  }
}

/** A readable socket on the fifo; 'end' fires once every writer that came has closed. */
export async function openFifoReader(path: string): Promise<Socket> {
  const fd = await openP(path, constants.O_RDONLY | constants.O_NONBLOCK);
  return new Socket({ fd, readable: true, writable: false });
}

/** A write-only socket on the fifo (opened O_RDWR so it needs no reader yet). */
export async function openFifoWriter(path: string): Promise<Socket> {
  const fd = await openP(path, constants.O_RDWR | constants.O_NONBLOCK);
  return new Socket({ fd, readable: false, writable: true });
}
