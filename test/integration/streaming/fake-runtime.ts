/**
 * An in-memory StreamingRuntime for the streaming tests ("with a fake runtime"): exec and
 * attach are played by small scripted commands; port-forward connects to a real TCP port on
 * the host's 127.0.0.1 (the requested port), or into a real network namespace when the test
 * maps the sandbox id to one.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { portForwardInNetns } from '../../../src/streaming/netns-dial.js';
import { relay } from '../../../src/streaming/relay.js';
import type { AttachRequest, ExecRequest, SessionIo, StreamingRuntime, TerminalSize } from '../../../src/streaming/runtime.js';

export interface FakeCall {
  kind: 'exec' | 'attach' | 'portforward';
  containerId?: string;
  cmd?: string[];
  sizes: TerminalSize[];
  port?: number;
  aborted?: boolean;
}

function write(w: NodeJS.WritableStream | undefined, s: string): void {
  w?.write(s);
}

/** Copy stdin to stdout until stdin ends; resolves with the byte count. */
function cat(io: SessionIo): Promise<number> {
  return new Promise((resolve) => {
    if (!io.stdin) {
      resolve(0);
      return;
    }
    let n = 0;
    io.stdin.on('data', (b: Buffer) => {
      n += b.length;
      if (io.stdout && !io.stdout.write(b)) {
        io.stdin!.pause();
        io.stdout.once('drain', () => io.stdin!.resume());
      }
    });
    io.stdin.once('end', () => resolve(n));
    io.stdin.once('close', () => resolve(n));
  });
}

export class FakeRuntime implements StreamingRuntime {
  readonly calls: FakeCall[] = [];
  /** podSandboxId → netns path, for forwards that must go through a real namespace. */
  readonly netns = new Map<string, string>();

  async exec(req: ExecRequest, io: SessionIo, signal: AbortSignal): Promise<{ exitCode: number }> {
    const call: FakeCall = { kind: 'exec', containerId: req.containerId, cmd: req.cmd, sizes: [] };
    this.calls.push(call);
    signal.addEventListener('abort', () => (call.aborted = true));
    const [cmd, ...args] = req.cmd;
    switch (cmd) {
      case 'cat':
        await cat(io);
        return { exitCode: 0 };
      case 'echo-both': // echo-both <stdout text> <stderr text> <exit code>
        write(io.stdout, args[0] ?? '');
        write(io.stderr, args[1] ?? '');
        return { exitCode: Number(args[2] ?? 0) };
      case 'upper-stdin': {
        // uppercases stdin to stdout and reports the byte count on stderr
        let n = 0;
        await new Promise<void>((resolve) => {
          io.stdin!.on('data', (b: Buffer) => {
            n += b.length;
            io.stdout!.write(b.toString('utf8').toUpperCase());
          });
          io.stdin!.once('end', resolve);
        });
        write(io.stderr, `read ${n} bytes`);
        return { exitCode: 3 };
      }
      case 'sizes': {
        // tty: report each terminal size on stdout; stop after <n> sizes
        const want = Number(args[0] ?? 1);
        if (!io.resize) {
          write(io.stdout, 'no resize stream\n');
          return { exitCode: 1 };
        }
        for await (const s of io.resize) {
          call.sizes.push(s);
          write(io.stdout, `size ${s.width}x${s.height}\n`);
          if (call.sizes.length >= want) break;
        }
        return { exitCode: 0 };
      }
      case 'blob': {
        // write <n> bytes of a fixed pseudo-random pattern to stdout, honouring backpressure
        const total = Number(args[0]);
        const chunk = Buffer.alloc(64 * 1024);
        let sent = 0;
        while (sent < total && !signal.aborted) {
          const n = Math.min(chunk.length, total - sent);
          for (let i = 0; i < n; i++) chunk[i] = (sent + i) * 7 % 251;
          const more = io.stdout!.write(Buffer.from(chunk.subarray(0, n)));
          sent += n;
          if (!more) await new Promise((r) => io.stdout!.once('drain', r));
        }
        return { exitCode: 0 };
      }
      case 'fail':
        throw new Error(`container ${req.containerId} is not running`);
      default:
        throw new Error(`fake runtime: unknown command ${JSON.stringify(req.cmd)}`);
    }
  }

  async attach(req: AttachRequest, io: SessionIo, signal: AbortSignal): Promise<void> {
    const call: FakeCall = { kind: 'attach', containerId: req.containerId, sizes: [] };
    this.calls.push(call);
    signal.addEventListener('abort', () => (call.aborted = true));
    write(io.stdout, `attached to ${req.containerId}\n`);
    await cat(io);
  }

  async portForward(req: { podSandboxId: string; port: number }, conn: Duplex, signal: AbortSignal): Promise<void> {
    this.calls.push({ kind: 'portforward', port: req.port, sizes: [] });
    const ns = this.netns.get(req.podSandboxId);
    if (ns) {
      await portForwardInNetns(ns, req.port, conn, signal);
      return;
    }
    const upstream = net.connect({ host: '127.0.0.1', port: req.port, allowHalfOpen: true });
    await relay(conn, upstream, signal);
  }
}

/** A TCP server that echoes each connection back, prefixed with `tag`, and half-closes
 * when the client does. */
export async function echoServer(tag: string): Promise<{ port: number; close(): Promise<void>; connections: number }> {
  const state = { connections: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    state.connections++;
    sockets.add(c);
    c.once('close', () => sockets.delete(c));
    c.write(tag);
    c.pipe(c);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
