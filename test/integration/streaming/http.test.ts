/**
 * The streaming server's HTTP answers before any session starts: tokens (unknown, reused,
 * expired, wrong kind), protocol negotiation failures, non-upgrade requests.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamingServer } from '../../../src/streaming/server.js';
import { spdyRemoteCommand, spdyUpgrade } from '../../helpers/stream-clients.js';
import { FakeRuntime } from './fake-runtime.js';

let server: StreamingServer;
let shortLived: StreamingServer;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  server = new StreamingServer({ runtime: new FakeRuntime(), logger: log });
  shortLived = new StreamingServer({ runtime: new FakeRuntime(), logger: log, tokenTtlMs: 1 });
  await Promise.all([server.start(), shortLived.start()]);
});
afterAll(async () => {
  await Promise.all([server.stop(), shortLived.stop()]);
});

const req = { containerId: 'c1', cmd: ['echo-both', 'hi', '', '0'], tty: false, stdin: false, stdout: true, stderr: false };

describe('streaming server HTTP answers', () => {
  it('hands out URLs on the bound address', () => {
    expect(server.address.host).toBe('127.0.0.1');
    expect(server.address.port).toBeGreaterThan(0);
    expect(server.getUrl('exec', req).startsWith(`${server.baseUrl}/exec/`)).toBe(true);
  });

  it('serves a token once; a second use is 404', async () => {
    const url = server.getUrl('exec', req);
    const first = await spdyUpgrade(url, ['v4.channel.k8s.io']);
    if (!first.ok) throw new Error(String(first.status));
    expect((await spdyRemoteCommand(first.conn, { stderr: false })).stdout).toBe('hi');
    const again = await spdyUpgrade(url, ['v4.channel.k8s.io']);
    expect([again.ok, again.status]).toEqual([false, 404]);
    expect(again.body).toContain('unknown, expired or already used exec token');
  });

  it('answers 404 for an expired token', async () => {
    const url = shortLived.getUrl('exec', req);
    await new Promise((r) => setTimeout(r, 20)); // the TTL is 1 ms
    expect((await spdyUpgrade(url, ['v4.channel.k8s.io'])).status).toBe(404);
  });

  it('answers 404 for unknown tokens, a token used on another kind of route, and unknown paths', async () => {
    expect((await spdyUpgrade(`${server.baseUrl}/exec/AAAAAAAAAAAAAAAAAAAAAA`, ['v4.channel.k8s.io'])).status).toBe(404);
    const execUrl = server.getUrl('exec', req);
    expect((await spdyUpgrade(execUrl.replace('/exec/', '/attach/'), ['v4.channel.k8s.io'])).status).toBe(404);
    expect((await fetch(`${server.baseUrl}/metrics`)).status).toBe(404);
  });

  it('answers 403 with the accepted versions when no protocol is shared', async () => {
    const r = await spdyUpgrade(server.getUrl('exec', req), ['v9.channel.k8s.io']);
    expect(r.status).toBe(403);
    expect(r.headers['x-accepted-stream-protocol-versions']).toEqual(['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io']);
    expect(r.body).toContain('unable to negotiate protocol');
  });

  it('answers 400 for a missing protocol header and for a request that does not upgrade', async () => {
    expect((await spdyUpgrade(server.getUrl('exec', req), [])).status).toBe(400);
    const plain = await fetch(server.getUrl('exec', req), { method: 'POST' });
    expect(plain.status).toBe(400);
    expect(await plain.text()).toContain('missing upgrade headers');
  });

  it('answers 405 to methods other than GET and POST', async () => {
    expect((await spdyUpgrade(server.getUrl('exec', req), ['v4.channel.k8s.io'], { method: 'PUT' })).status).toBe(405);
  });

  it('refuses invalid requests when the URL is asked for', () => {
    expect(() => server.getUrl('exec', { ...req, tty: true, stderr: true })).toThrow(/tty and stderr/);
    expect(() => server.getUrl('portforward', { podSandboxId: '', ports: [] })).toThrow(/pod_sandbox_id is required/);
  });
});
