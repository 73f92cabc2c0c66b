/**
 * Port-forward into a real network namespace (ip netns) through portForwardInNetns
 * (nsenter + busybox nc), driven over SPDY like kubectl/crictl would.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamingServer } from '../../../src/streaming/server.js';
import { readAll, spdyPortForwardPair, spdyUpgrade } from '../../helpers/stream-clients.js';
import { FakeRuntime } from './fake-runtime.js';

const ns = `berth-st-${randomBytes(4).toString('hex')}`;
const nsPath = `/run/netns/${ns}`;
const runtime = new FakeRuntime();
let server: StreamingServer;
let echo: ChildProcess | undefined;
let echoPort = 0;

// An echo server that first announces the inode of its own network namespace.
const ECHO_SCRIPT = `
const net = require('node:net');
const ino = require('node:fs').statSync('/proc/self/ns/net').ino;
const s = net.createServer({ allowHalfOpen: true }, (c) => { c.write('ns:' + ino + ':'); c.pipe(c); });
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`;

beforeAll(async () => {
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
  echo = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', ECHO_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  echoPort = await new Promise<number>((resolve, reject) => {
    echo!.stdout!.once('data', (b: Buffer) => resolve(Number(b.toString().trim())));
    echo!.once('exit', (code) => reject(new Error(`echo server in ${ns} exited with ${code}`)));
  });
  runtime.netns.set('pod-in-ns', nsPath);
  server = new StreamingServer({ runtime, logger: pino({ level: 'silent' }) });
  await server.start();
});

afterAll(async () => {
  await server?.stop();
  if (echo && echo.exitCode === null) {
    const exited = new Promise((r) => echo!.once('exit', r));
    echo.kill('SIGKILL');
    await exited;
  }
  execFileSync('ip', ['netns', 'del', ns]);
});

async function connect() {
  const up = await spdyUpgrade(server.getUrl('portforward', { podSandboxId: 'pod-in-ns', ports: [] }), ['portforward.k8s.io']);
  if (!up.ok) throw new Error(`upgrade failed: ${up.status}`);
  return up.conn;
}

describe('port-forward into a network namespace (nsenter + busybox nc)', () => {
  it('reaches a server listening on 127.0.0.1 inside the pod netns, half-close included', async () => {
    const conn = await connect();
    const pair = await spdyPortForwardPair(conn, echoPort, '0');
    const echoed = readAll(pair.data);
    pair.data.end('through the namespace');
    const nsIno = statSync(nsPath).ino;
    expect((await echoed).toString()).toBe(`ns:${nsIno}:through the namespace`);
    expect(await pair.error).toBe('');
    conn.close();
  });

  it('reports a port nobody listens on in that namespace on the error stream', async () => {
    const conn = await connect();
    const pair = await spdyPortForwardPair(conn, echoPort === 1 ? 2 : 1, '0');
    void readAll(pair.data);
    const msg = await pair.error;
    expect(msg).toContain(`network namespace ${nsPath}`);
    expect(msg).toMatch(/Connection refused/);
    // the connection still serves other forwards
    const ok = await spdyPortForwardPair(conn, echoPort, '1');
    const echoed = readAll(ok.data);
    ok.data.end('again');
    expect((await echoed).toString()).toMatch(/^ns:\d+:again$/);
    conn.close();
  });
});
