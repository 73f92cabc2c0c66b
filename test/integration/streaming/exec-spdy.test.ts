/**
 * exec / attach over SPDY/3.1 against the real streaming server on a real socket, with a
 * fake runtime behind it, using our SPDY client (client-go's stream layout).
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamingServer } from '../../../src/streaming/server.js';
import { headersFrom } from '../../../src/streaming/spdy/header-block.js';
import { openRemoteCommandStreams, readAll, readUntil, spdyRemoteCommand, spdyUpgrade } from '../../helpers/stream-clients.js';
import { FakeRuntime } from './fake-runtime.js';

const runtime = new FakeRuntime();
let server: StreamingServer;

beforeAll(async () => {
  server = new StreamingServer({ runtime, address: '127.0.0.1:0', streamCreationTimeoutMs: 2000 });
  await server.start();
});
afterAll(async () => {
  await server.stop();
});

const exec = (cmd: string[], o: { stdin?: boolean; tty?: boolean; stderr?: boolean } = {}): string =>
  server.getUrl('exec', {
    containerId: 'c1',
    cmd,
    tty: o.tty ?? false,
    stdin: o.stdin ?? false,
    stdout: true,
    stderr: o.stderr ?? !o.tty,
  });

async function connect(url: string, protocols = ['v4.channel.k8s.io']) {
  const up = await spdyUpgrade(url, protocols);
  if (!up.ok) throw new Error(`upgrade failed: ${up.status} ${up.body}`);
  return up;
}

describe('exec over SPDY with a fake runtime', () => {
  it('carries stdin, stdout and stderr and reports a non-zero exit code as a v4 Status', async () => {
    const up = await connect(exec(['upper-stdin'], { stdin: true }));
    expect(up.headers['upgrade']).toEqual(['SPDY/3.1']);
    expect(up.protocol).toBe('v4.channel.k8s.io');
    const r = await spdyRemoteCommand(up.conn, { stdin: 'hello berth\n' });
    expect(r.stdout).toBe('HELLO BERTH\n');
    expect(r.stderr).toBe('read 12 bytes');
    expect(JSON.parse(r.error)).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command ["upper-stdin"], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  it('reports success as {"metadata":{},"status":"Success"}', async () => {
    const up = await connect(exec(['echo-both', 'out', 'err', '0']));
    const r = await spdyRemoteCommand(up.conn, {});
    expect([r.stdout, r.stderr]).toEqual(['out', 'err']);
    expect(r.error).toBe('{"metadata":{},"status":"Success"}');
  });

  it('writes plain error text (and nothing on success) for the v2 protocol', async () => {
    const failing = await connect(exec(['fail']), ['v2.channel.k8s.io']);
    expect(failing.protocol).toBe('v2.channel.k8s.io');
    const r = await spdyRemoteCommand(failing.conn, {});
    expect(r.error).toBe('Internal error occurred: error executing command in container: container c1 is not running');

    const ok = await connect(exec(['echo-both', 'x', '', '0']), ['v2.channel.k8s.io']);
    expect((await spdyRemoteCommand(ok.conn, {})).error).toBe('');
  });

  it('picks the first protocol the client lists that the server supports', async () => {
    const up = await connect(exec(['echo-both', 'x', '', '0']), ['v9.channel.k8s.io', 'v3.channel.k8s.io', 'v4.channel.k8s.io']);
    expect(up.protocol).toBe('v3.channel.k8s.io');
    await spdyRemoteCommand(up.conn, {});
  });

  it('delivers tty resize events to the runtime, one by one', async () => {
    const up = await connect(exec(['sizes', '2'], { tty: true, stdin: true }));
    const s = await openRemoteCommandStreams(up.conn, { stdin: true, stdout: true, stderr: false, tty: true, resize: true });
    expect(s.stderr).toBeUndefined();
    const errorText = readAll(s.error);
    s.resize!.write('{"Width":80,"Height":24}\n');
    await readUntil(s.stdout!, (t) => t.includes('size 80x24\n'));
    s.resize!.write('{"Width":132,"Height":43}\n');
    const out = await readAll(s.stdout!);
    expect(out.toString()).toBe('size 132x43\n');
    expect((await errorText).toString()).toBe('{"metadata":{},"status":"Success"}');
    expect(runtime.calls.at(-1)!.sizes).toEqual([
      { width: 80, height: 24 },
      { width: 132, height: 43 },
    ]);
  });

  it('attaches: the runtime gets stdin and its output reaches the client', async () => {
    const url = server.getUrl('attach', { containerId: 'c7', tty: false, stdin: true, stdout: true, stderr: true });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/attach\/[A-Za-z0-9_-]+$/);
    const up = await connect(url);
    const r = await spdyRemoteCommand(up.conn, { stdin: 'typed\n' });
    expect(r.stdout).toBe('attached to c7\ntyped\n');
    expect(r.error).toBe('{"metadata":{},"status":"Success"}');
    expect(runtime.calls.at(-1)).toMatchObject({ kind: 'attach', containerId: 'c7' });
  });

  it('closes the connection when the client does not open the expected streams in time', async () => {
    const up = await connect(exec(['cat'], { stdin: true }));
    await up.conn.openStream(headersFrom({ streamtype: 'error' }));
    await new Promise<void>((resolve) => up.conn.once('close', () => resolve()));
    expect(up.conn.closed).toBe(true);
  });
});

describe('SPDY flow control', () => {
  const pattern = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 7) % 251;
    return b;
  };
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

  it('moves 10 MB up and back down with 64 KiB windows, intact and within the windows', async () => {
    const up = await connect(exec(['cat'], { stdin: true }));
    const data = pattern(10 * 1024 * 1024);
    const r = await spdyRemoteCommand(up.conn, { stdin: data });
    expect(r.error).toBe('{"metadata":{},"status":"Success"}');
    expect(r.stdoutBytes.length).toBe(data.length);
    expect(sha(r.stdoutBytes)).toBe(sha(data));
    expect(up.conn.stats.peerWindowOverrun).toBe(0);
  }, 60_000);

  it('never sends a slow reader more than its window allows', async () => {
    const size = 4 * 1024 * 1024;
    const up = await connect(exec(['blob', String(size)]));
    const s = await openRemoteCommandStreams(up.conn, { stdin: false, stdout: true, stderr: true, tty: false, resize: false });
    const parts: Buffer[] = [];
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, cb) {
        parts.push(chunk);
        setImmediate(cb); // one chunk per turn of the event loop: the server is faster
      },
    });
    await Promise.all([pipeline(s.stdout!, slow), readAll(s.stderr!), readAll(s.error)]);
    const out = Buffer.concat(parts);
    expect(out.length).toBe(size);
    expect(sha(out)).toBe(sha(pattern(size)));
    expect(up.conn.stats.peerWindowOverrun).toBe(0);
  }, 60_000);

  it('does not stall against a client that never sends WINDOW_UPDATE (like Go spdystream)', async () => {
    const url = exec(['blob', String(4 * 1024 * 1024)]);
    const up = await spdyUpgrade(url, ['v4.channel.k8s.io'], {
      connOptions: { flowControl: 'when-peer-announces', announceSettings: false, sendWindowUpdates: false },
    });
    if (!up.ok) throw new Error(String(up.status));
    const s = await openRemoteCommandStreams(up.conn, { stdin: false, stdout: true, stderr: true, tty: false, resize: false });
    const [out, , err] = await Promise.all([readAll(s.stdout!), readAll(s.stderr!), readAll(s.error)]);
    expect(out.length).toBe(4 * 1024 * 1024);
    expect(sha(out)).toBe(sha(pattern(4 * 1024 * 1024)));
    expect(err.toString()).toBe('{"metadata":{},"status":"Success"}');
  }, 60_000);
});
