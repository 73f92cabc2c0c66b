/**
 * Port-forward over SPDY, WebSocket v4 and SPDY-in-WebSocket against the real server, with a
 * fake runtime that connects to real TCP echo servers on the host's 127.0.0.1.
 */
import { createHash, randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamingServer } from '../../../src/streaming/server.js';
import { SpdyConnection } from '../../../src/streaming/spdy/connection.js';
import { readAll, spdyPortForwardPair, spdyUpgrade, wsConnect } from '../../helpers/stream-clients.js';
import { echoServer, FakeRuntime } from './fake-runtime.js';

const runtime = new FakeRuntime();
let server: StreamingServer;
let a: Awaited<ReturnType<typeof echoServer>>;
let b: Awaited<ReturnType<typeof echoServer>>;
let closedPort: number;

beforeAll(async () => {
  server = new StreamingServer({ runtime, logger: pino({ level: 'silent' }) });
  await server.start();
  a = await echoServer('A:');
  b = await echoServer('B:');
  const gone = await echoServer('x');
  closedPort = gone.port;
  await gone.close(); // nothing listens there any more
});
afterAll(async () => {
  await server.stop();
  await a?.close();
  await b?.close();
});

const pfUrl = (ports: number[] = []): string => server.getUrl('portforward', { podSandboxId: 'pod1', ports });

async function spdyConn(): Promise<SpdyConnection> {
  const up = await spdyUpgrade(pfUrl(), ['portforward.k8s.io']);
  if (!up.ok) throw new Error(`upgrade failed: ${up.status} ${up.body}`);
  expect(up.protocol).toBe('portforward.k8s.io');
  return up.conn;
}

/** One forwarded connection: send `payload`, half-close, read the echo to the end. */
async function roundTrip(conn: SpdyConnection, port: number, requestId: string, payload: Buffer): Promise<{ data: Buffer; error: string }> {
  const pair = await spdyPortForwardPair(conn, port, requestId);
  const echoed = readAll(pair.data);
  pair.data.end(payload);
  return { data: await echoed, error: await pair.error };
}

describe('port-forward over SPDY with a fake runtime', () => {
  it('forwards two ports, two connections each, concurrently on one SPDY connection', async () => {
    const conn = await spdyConn();
    const before = [a.connections, b.connections];
    const results = await Promise.all([
      roundTrip(conn, a.port, '0', Buffer.from('one')),
      roundTrip(conn, a.port, '1', Buffer.from('two')),
      roundTrip(conn, b.port, '2', Buffer.from('three')),
      roundTrip(conn, b.port, '3', Buffer.from('four')),
    ]);
    expect(results.map((r) => r.data.toString())).toEqual(['A:one', 'A:two', 'B:three', 'B:four']);
    expect(results.map((r) => r.error)).toEqual(['', '', '', '']);
    expect([a.connections - before[0]!, b.connections - before[1]!]).toEqual([2, 2]);
    conn.close();
  });

  it('serves two SPDY connections at once, and 2 MB through one forward intact', async () => {
    const [c1, c2] = await Promise.all([spdyConn(), spdyConn()]);
    const big = randomBytes(2 * 1024 * 1024);
    const [r1, r2] = await Promise.all([roundTrip(c1, a.port, '0', big), roundTrip(c2, b.port, '0', Buffer.from('hi'))]);
    const sha = (x: Buffer): string => createHash('sha256').update(x).digest('hex');
    expect(r1.data.length).toBe(big.length + 2);
    expect(sha(r1.data)).toBe(sha(Buffer.concat([Buffer.from('A:'), big])));
    expect(r2.data.toString()).toBe('B:hi');
    c1.close();
    c2.close();
  });

  it('reports a closed port on that request\'s error stream and keeps serving the others', async () => {
    const conn = await spdyConn();
    const bad = await spdyPortForwardPair(conn, closedPort, '7');
    const badData = readAll(bad.data);
    expect(await bad.error).toMatch(new RegExp(`^error forwarding port ${closedPort} to pod pod1: .*ECONNREFUSED`));
    await badData;
    const good = await roundTrip(conn, a.port, '8', Buffer.from('still here'));
    expect(good).toEqual({ data: Buffer.from('A:still here'), error: '' });
    conn.close();
  });

  it('refuses streams without a valid port header, keeping the connection', async () => {
    const conn = await spdyConn();
    const { headersFrom } = await import('../../../src/streaming/spdy/header-block.js');
    await expect(conn.openStream(headersFrom({ streamtype: 'data', requestid: '1' }))).rejects.toThrow(/reset before the peer replied \(status 3\)/);
    expect((await roundTrip(conn, b.port, '2', Buffer.from('ok'))).data.toString()).toBe('B:ok');
    conn.close();
  });
});

describe('port-forward over WebSocket with a fake runtime', () => {
  const prefix = (port: number): Buffer => Buffer.from([port & 0xff, port >> 8]);

  it('v4: ports from the query, a data+error channel pair each, port-prefixed', async () => {
    const r = await wsConnect(`${pfUrl()}?port=${a.port}&port=${b.port}`, ['v4.channel.k8s.io']);
    if (!r.ok) throw new Error(`${r.status} ${r.body}`);
    const c = r.client!;
    await c.waitFor(() => [0, 1, 2, 3].every((ch) => c.received.has(ch)), 'the four port prefixes');
    for (const [ch, port] of [[0, a.port], [1, a.port], [2, b.port], [3, b.port]] as const) expect(c.received.get(ch)![0]).toEqual(prefix(port));
    c.send(0, 'to-a');
    c.send(2, 'to-b');
    await c.waitFor(() => c.bytes(0).subarray(2).toString() === 'A:to-a' && c.bytes(2).subarray(2).toString() === 'B:to-b', 'both echoes');
    c.ws.close();
    await c.closed;
    expect(c.bytes(1)).toEqual(prefix(a.port));
  });

  it('v4: the CRI request\'s ports when the query names none; a closed port reports on its error channel', async () => {
    const r = await wsConnect(pfUrl([closedPort]), ['v4.channel.k8s.io']);
    if (!r.ok) throw new Error(`${r.status} ${r.body}`);
    const closed = await r.client!.closed;
    expect(closed.code).toBe(1000);
    expect(r.client!.bytes(1).subarray(0, 2)).toEqual(prefix(closedPort));
    expect(r.client!.bytes(1).subarray(2).toString()).toMatch(/ECONNREFUSED/);
  });

  it('answers 400 without any port', async () => {
    const r = await wsConnect(pfUrl(), ['v4.channel.k8s.io']);
    expect([r.ok, r.status]).toEqual([false, 400]);
    expect(r.body).toContain('"port" is required');
  });
});
