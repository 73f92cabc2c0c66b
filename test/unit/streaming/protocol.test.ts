import { describe, expect, it } from 'vitest';
import { negotiate, spdyJsonStatus } from '../../../src/streaming/negotiate.js';
import { classifyPortForwardStream } from '../../../src/streaming/portforward-spdy.js';
import { portPrefix, portsFromQuery } from '../../../src/streaming/portforward-ws.js';
import { expectedStreamTypes } from '../../../src/streaming/remotecommand-spdy.js';
import { parseListenAddress, validateAttach, validateExec, validatePortForward } from '../../../src/streaming/requests.js';
import { JsonObjectSplitter, parseTerminalSize, ResizeQueue } from '../../../src/streaming/resize.js';
import { headersFrom } from '../../../src/streaming/spdy/header-block.js';
import { encodeStatus, statusFor } from '../../../src/streaming/status.js';
import { decodeChannelMessage, encodeChannelMessage } from '../../../src/streaming/ws-channels.js';

const spdy = (versions: string[]) => ({ connection: 'Upgrade', upgrade: 'SPDY/3.1', 'x-stream-protocol-version': versions.join(', ') });

describe('protocol negotiation', () => {
  it('picks the first SPDY protocol the client lists that the server knows', () => {
    expect(negotiate('exec', spdy(['v5.channel.k8s.io', 'v3.channel.k8s.io', 'v4.channel.k8s.io']))).toEqual({
      transport: 'spdy',
      protocol: 'v3.channel.k8s.io',
    });
    expect(negotiate('portforward', spdy(['portforward.k8s.io']))).toEqual({ transport: 'spdy', protocol: 'portforward.k8s.io' });
  });

  it('answers 403 with the accepted versions when nothing matches, 400 when nothing is offered', () => {
    const r = negotiate('exec', spdy(['v9.channel.k8s.io']));
    expect(r).toMatchObject({ transport: 'reject', status: 403, headers: { 'X-Accepted-Stream-Protocol-Versions': expect.arrayContaining(['v4.channel.k8s.io']) } });
    expect(negotiate('exec', { connection: 'Upgrade', upgrade: 'SPDY/3.1' })).toMatchObject({ transport: 'reject', status: 400 });
    expect(negotiate('portforward', spdy(['v4.channel.k8s.io']))).toMatchObject({ transport: 'reject', status: 403 });
  });

  it('knows the WebSocket subprotocols, their encodings and status formats', () => {
    const ws = (p: string) => ({ connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-protocol': p });
    expect(negotiate('exec', ws('v5.channel.k8s.io, v4.channel.k8s.io'))).toMatchObject({
      transport: 'websocket',
      protocol: 'v5.channel.k8s.io',
      info: { base64: false, jsonStatus: true, closeSignal: true },
    });
    expect(negotiate('attach', ws('v4.base64.channel.k8s.io'))).toMatchObject({ info: { base64: true, jsonStatus: true } });
    expect(negotiate('exec', ws('base64.channel.k8s.io'))).toMatchObject({ info: { base64: true, jsonStatus: false } });
    expect(negotiate('portforward', ws('SPDY/3.1+portforward.k8s.io'))).toMatchObject({ transport: 'reject', status: 403 });
    expect(negotiate('exec', ws('v2.channel.k8s.io'))).toMatchObject({ transport: 'reject', status: 403 });
    expect(negotiate('exec', { connection: 'Upgrade', upgrade: 'websocket' })).toMatchObject({ transport: 'websocket', protocol: '' });
  });

  it('uses JSON status only from SPDY v4', () => {
    expect(['v4.channel.k8s.io', 'v3.channel.k8s.io', 'channel.k8s.io'].map(spdyJsonStatus)).toEqual([true, false, false]);
  });
});

describe('remotecommand streams', () => {
  const req = { containerId: 'c', cmd: ['sh'], stdin: true, stdout: true, stderr: false, tty: true };
  it('expects error + the requested streams, resize for tty from v3 on', () => {
    expect([...expectedStreamTypes(req, 'v4.channel.k8s.io')].sort()).toEqual(['error', 'resize', 'stdin', 'stdout']);
    expect([...expectedStreamTypes(req, 'v2.channel.k8s.io')].sort()).toEqual(['error', 'stdin', 'stdout']);
    expect([...expectedStreamTypes({ ...req, tty: false, stderr: true }, 'v4.channel.k8s.io')].sort()).toEqual(['error', 'stderr', 'stdin', 'stdout']);
  });
});

describe('status on the error stream', () => {
  it('encodes success, exit codes and internal errors like apimachinery', () => {
    expect(encodeStatus(statusFor({ exitCode: 0 }), true)!.toString()).toBe('{"metadata":{},"status":"Success"}');
    expect(encodeStatus(statusFor({ exitCode: 0 }), false)).toBeNull();
    expect(encodeStatus(statusFor({ exitCode: 2 }, ['false']), true)!.toString()).toBe(
      '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [\\"false\\"], exit code 2",' +
        '"reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"2"}]}}',
    );
    expect(encodeStatus(statusFor({ error: 'boom' }), true)!.toString()).toBe(
      '{"metadata":{},"status":"Failure","message":"Internal error occurred: boom","reason":"InternalError","details":{"causes":[{"message":"boom"}]},"code":500}',
    );
    expect(encodeStatus(statusFor({ error: 'boom' }), false)!.toString()).toBe('Internal error occurred: boom');
  });
});

describe('resize events', () => {
  it('splits concatenated JSON objects across chunk boundaries, braces in strings included', () => {
    const s = new JsonObjectSplitter();
    expect(s.push('{"Width":80,')).toEqual([]);
    expect(s.push('"Height":24}\n{"Width":1,"Height":2}{"x":"}{"')).toEqual(['{"Width":80,"Height":24}', '{"Width":1,"Height":2}']);
    expect(s.push('}')).toEqual(['{"x":"}{"}']);
  });

  it('accepts only sane sizes', () => {
    expect(parseTerminalSize('{"Width":80,"Height":24}')).toEqual({ width: 80, height: 24 });
    expect(parseTerminalSize('{"Width":-1,"Height":24}')).toBeUndefined();
    expect(parseTerminalSize('{"Width":"80"}')).toBeUndefined();
    expect(parseTerminalSize('nope')).toBeUndefined();
  });

  it('queues sizes for an async consumer and ends', async () => {
    const q = new ResizeQueue();
    q.pushBytes(Buffer.from('{"Width":10,"Height":5}\n{"Width":11,"Height":6}\n'));
    q.end();
    const seen = [];
    for await (const s of q) seen.push(s);
    expect(seen).toEqual([
      { width: 10, height: 5 },
      { width: 11, height: 6 },
    ]);
  });
});

describe('WebSocket channel framing', () => {
  it('prefixes a channel byte, or an ASCII digit plus base64', () => {
    expect(encodeChannelMessage(1, Buffer.from('hi'), false)).toEqual(Buffer.from([1, 0x68, 0x69]));
    expect(encodeChannelMessage(1, Buffer.from('hi'), true)).toBe('1aGk=');
    expect(decodeChannelMessage(Buffer.from('0aGk='), true, false)).toEqual({ channel: 0, data: Buffer.from('hi') });
    expect(decodeChannelMessage(Buffer.from([0, 1, 2]), false, false)).toEqual({ channel: 0, data: Buffer.from([1, 2]) });
  });

  it('knows the v5 close signal only when the protocol has it', () => {
    expect(decodeChannelMessage(Buffer.from([255, 0]), false, true)).toEqual({ closeChannel: 0 });
    expect(decodeChannelMessage(Buffer.from([255, 0, 1]), false, true)).toMatchObject({ invalid: expect.any(String) });
    expect(decodeChannelMessage(Buffer.from([255, 0]), false, false)).toEqual({ channel: 255, data: Buffer.from([0]) });
  });
});

describe('port-forward requests', () => {
  it('classifies SPDY streams by port, streamtype and requestid', () => {
    expect(classifyPortForwardStream(headersFrom({ port: '80', streamtype: 'data', requestid: '4' }), 9)).toEqual({ type: 'data', port: 80, requestId: '4' });
    // old clients without requestid: pair error stream n with data stream n+2
    expect(classifyPortForwardStream(headersFrom({ port: '80', streamtype: 'error' }), 1)).toMatchObject({ requestId: '1' });
    expect(classifyPortForwardStream(headersFrom({ port: '80', streamtype: 'data' }), 3)).toMatchObject({ requestId: '1' });
    expect(classifyPortForwardStream(headersFrom({ streamtype: 'data' }), 3)).toEqual({ refuse: '"port" header is required' });
    expect(classifyPortForwardStream(headersFrom({ port: '0', streamtype: 'data' }), 3)).toMatchObject({ refuse: expect.stringContaining('as a port') });
    expect(classifyPortForwardStream(headersFrom({ port: '80', streamtype: 'stdin' }), 3)).toMatchObject({ refuse: expect.stringContaining('stream type') });
  });

  it('reads WebSocket ports from repeated or comma-separated query parameters', () => {
    expect(portsFromQuery(new URLSearchParams('port=80&port=443,8080'))).toEqual([80, 443, 8080]);
    expect(portsFromQuery(new URLSearchParams(''))).toEqual([]);
    expect(portsFromQuery(new URLSearchParams('port=99999'))).toEqual({ error: 'unable to parse "99999" as a port' });
    expect(portPrefix(8080)).toEqual(Buffer.from([0x90, 0x1f]));
  });
});

describe('request validation', () => {
  it('refuses what containerd refuses, with the container named', () => {
    const ok = { containerId: 'c1', cmd: ['ls'], tty: false, stdin: false, stdout: true, stderr: true };
    expect(() => validateExec(ok)).not.toThrow();
    expect(() => validateExec({ ...ok, tty: true })).toThrow(/c1: tty and stderr cannot both be set/);
    expect(() => validateExec({ ...ok, stdout: false, stderr: false })).toThrow(/at least one of stdin, stdout and stderr/);
    expect(() => validateExec({ ...ok, cmd: [] })).toThrow(/cmd is empty/);
    expect(() => validateAttach({ ...ok, containerId: '' })).toThrow(/container_id is required/);
    expect(() => validatePortForward({ podSandboxId: 'p', ports: [0] })).toThrow(/port 0 is not in 1-65535/);
  });

  it('parses listen addresses', () => {
    expect(parseListenAddress('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('[::1]:10010')).toEqual({ host: '::1', port: 10010 });
    expect(parseListenAddress(':10010')).toEqual({ host: '127.0.0.1', port: 10010 });
    expect(() => parseListenAddress('localhost')).toThrow(/not host:port/);
  });
});
