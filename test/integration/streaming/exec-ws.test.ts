/**
 * exec / attach over WebSocket (v5, v4, base64 and the unversioned channel protocol) against
 * the real server on a real socket, with a fake runtime, using a `ws` client.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamingServer } from '../../../src/streaming/server.js';
import { wsConnect, type WsChannelClient } from '../../helpers/stream-clients.js';
import { FakeRuntime } from './fake-runtime.js';

const runtime = new FakeRuntime();
let server: StreamingServer;

beforeAll(async () => {
  server = new StreamingServer({ runtime, logger: pino({ level: 'silent' }) });
  await server.start();
});
afterAll(async () => {
  await server.stop();
});

const execUrl = (cmd: string[], o: { stdin?: boolean; tty?: boolean } = {}): string =>
  server.getUrl('exec', { containerId: 'c1', cmd, tty: o.tty ?? false, stdin: o.stdin ?? false, stdout: true, stderr: !o.tty });

async function waitUntil(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!pred()) throw new Error(`gave up waiting for ${what}`);
}

async function open(url: string, protocols: string[]): Promise<WsChannelClient> {
  const a = await wsConnect(url, protocols);
  if (!a.ok) throw new Error(`upgrade failed: ${a.status} ${a.body}`);
  return a.client!;
}

describe('exec over WebSocket with a fake runtime', () => {
  it('v5: stdin closed with the CLOSE signal, outputs on channels 1 and 2, exit code on 3, then a normal close', async () => {
    const c = await open(execUrl(['upper-stdin'], { stdin: true }), ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
    expect(c.ws.protocol).toBe('v5.channel.k8s.io');
    c.send(0, 'abc');
    c.send(0, 'def\n');
    c.closeChannel(0);
    const closed = await c.closed;
    expect(closed.code).toBe(1000);
    expect(c.log[0]).toEqual({ channel: 1, data: Buffer.alloc(0) }); // the "ready" message
    expect(c.text(1)).toBe('ABCDEF\n');
    expect(c.text(2)).toBe('read 7 bytes');
    expect(JSON.parse(c.text(3))).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
  });

  it('v4.base64: text frames with a channel digit and base64 payloads', async () => {
    const c = await open(execUrl(['echo-both', 'out\u00e9', 'err', '0']), ['v4.base64.channel.k8s.io']);
    await c.closed;
    expect(c.ws.protocol).toBe('v4.base64.channel.k8s.io');
    expect(c.text(1)).toBe('out\u00e9');
    expect(c.text(2)).toBe('err');
    expect(c.text(3)).toBe('{"metadata":{},"status":"Success"}');
  });

  it('channel.k8s.io (pre-v4): plain-text error and nothing on success', async () => {
    const failing = await open(execUrl(['fail']), ['channel.k8s.io']);
    await failing.closed;
    expect(failing.text(3)).toBe('Internal error occurred: error executing command in container: container c1 is not running');
    const ok = await open(execUrl(['echo-both', 'x', '', '0']), ['channel.k8s.io']);
    await ok.closed;
    expect(ok.text(3)).toBe('');
  });

  it('tty: resize messages on channel 4 reach the runtime', async () => {
    const c = await open(execUrl(['sizes', '2'], { tty: true, stdin: true }), ['v5.channel.k8s.io']);
    c.send(4, '{"Width":100,"Height":30}');
    await c.waitFor(() => c.text(1).includes('size 100x30'), 'the first size');
    c.send(4, '{"Width":40,"Height":10}\n');
    await c.closed;
    expect(c.text(1)).toBe('size 100x30\nsize 40x10\n');
    expect(c.received.has(2)).toBe(false);
    expect(c.text(3)).toBe('{"metadata":{},"status":"Success"}');
  });

  it('attach: output and stdin echo, ended by the client closing stdin (v5)', async () => {
    const url = server.getUrl('attach', { containerId: 'c9', tty: false, stdin: true, stdout: true, stderr: false });
    const c = await open(url, ['v5.channel.k8s.io']);
    await c.waitFor(() => c.text(1).includes('attached to c9'), 'the greeting');
    c.send(0, 'ping\n');
    await c.waitFor(() => c.text(1).endsWith('ping\n'), 'the echo');
    c.closeChannel(0);
    await c.closed;
    expect(c.text(1)).toBe('attached to c9\nping\n');
    expect(c.text(3)).toBe('{"metadata":{},"status":"Success"}');
  });

  it('refuses subprotocols it does not speak with 403', async () => {
    const a = await wsConnect(execUrl(['cat']), ['v3.channel.k8s.io']);
    expect(a.ok).toBe(false);
    expect(a.status).toBe(403);
    expect(a.body).toContain('v5.channel.k8s.io');
  });

  it('tells the runtime when the client goes away mid-session', async () => {
    const before = runtime.calls.length;
    const c = await open(execUrl(['cat'], { stdin: true }), ['v4.channel.k8s.io']);
    c.send(0, 'partial');
    await c.waitFor(() => c.text(1) === 'partial', 'the echo');
    c.ws.terminate();
    await c.closed;
    const call = runtime.calls[before]!;
    await waitUntil(() => call.aborted === true, 'the abort signal');
    expect(call.aborted).toBe(true);
  });
});
