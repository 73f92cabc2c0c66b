/**
 * Our ttrpc client against our ttrpc server over a real unix socket in a temp dir (no shim).
 * The Events service is used as the method table; a second "Echo" method reuses its codecs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventsService, ForwardRequest } from '../../../src/gen/containerd/services/events/ttrpc/v1/events.js';
import { Empty } from '../../../src/gen/google/protobuf/empty.js';
import { Response } from '../../../src/gen/ttrpc/ttrpc.js';
import { Code, BerthError, alreadyExists, notFound } from '../../../src/util/errors.js';
import { TtrpcClient } from '../../../src/runtimes/shim/ttrpc/client.js';
import { TtrpcServer, type CallContext } from '../../../src/runtimes/shim/ttrpc/server.js';
import { TtrpcClosedError, TtrpcStatusError } from '../../../src/runtimes/shim/ttrpc/errors.js';
import { encodeFrame, FrameDecoder, FrameType, MAX_MESSAGE_LENGTH } from '../../../src/runtimes/shim/ttrpc/frame.js';

// A method whose response echoes the request's topic back as the namespace, after a delay in ms
// taken from the envelope's namespace field.
const Echo = {
  path: '/test.Echo/Echo',
  requestSerialize: EventsService.forward.requestSerialize,
  requestDeserialize: EventsService.forward.requestDeserialize,
  responseSerialize: EventsService.forward.requestSerialize,
  responseDeserialize: EventsService.forward.requestDeserialize,
};
const envelope = (topic: string, delayMs = 0) =>
  ForwardRequest.fromPartial({ envelope: { topic, namespace: String(delayMs) } });

let dir: string;
let server: TtrpcServer;
let sock: string;
const seen: CallContext[] = [];
const clients: TtrpcClient[] = [];
const connect = async (path = sock, opts = {}) => {
  const c = await TtrpcClient.connect(`unix://${path}`, opts);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-ttrpc-'));
  sock = join(dir, 's.sock');
  server = new TtrpcServer()
    .register(Echo, async (req, ctx) => {
      seen.push(ctx);
      const ms = Number(req.envelope?.namespace ?? 0);
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
      if (req.envelope?.topic === 'missing') throw notFound('container x not found');
      if (req.envelope?.topic === 'dup') throw alreadyExists('container x already exists');
      if (req.envelope?.topic === 'plain') throw new Error('boom');
      return ForwardRequest.fromPartial({ envelope: { topic: req.envelope?.topic ?? '' } });
    })
    .register(EventsService.forward, () => ({}));
  await server.listen(sock);
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ttrpc client ↔ server', () => {
  it('makes a unary call and sends metadata and timeout', async () => {
    const c = await connect(sock, { metadata: { 'Containerd-Namespace-TTRPC': 'k8s.io' } });
    seen.length = 0;
    const res = await c.call(Echo, envelope('hello'), { timeoutMs: 5_000, metadata: { extra: ['a', 'b'] } });
    expect(res.envelope?.topic).toBe('hello');
    expect(seen[0]!.metadata).toEqual({ 'containerd-namespace-ttrpc': ['k8s.io'], extra: ['a', 'b'] });
    expect(seen[0]!.deadline).toBeGreaterThan(Date.now());
    const empty = await c.call(EventsService.forward, ForwardRequest.fromPartial({}));
    expect(empty).toEqual(Empty.fromPartial({}));
  });

  it('runs concurrent calls on odd stream ids and matches out-of-order answers', async () => {
    const c = await connect();
    const delays = [60, 10, 40, 0, 25, 5, 50, 15];
    const results = await Promise.all(delays.map((d, i) => c.call(Echo, envelope(`call-${i}`, d))));
    expect(results.map((r) => r.envelope?.topic)).toEqual(delays.map((_, i) => `call-${i}`));
    expect(c.inFlight).toBe(0);
  });

  it('maps a status onto BerthError codes with the server message', async () => {
    const c = await connect();
    const nf = await c.call(Echo, envelope('missing')).catch((e: unknown) => e);
    expect(nf).toBeInstanceOf(TtrpcStatusError);
    expect(nf).toBeInstanceOf(BerthError);
    expect((nf as TtrpcStatusError).code).toBe(Code.NOT_FOUND);
    expect((nf as TtrpcStatusError).message).toBe('test.Echo/Echo: container x not found');
    expect(((await c.call(Echo, envelope('dup')).catch((e: unknown) => e)) as BerthError).code).toBe(Code.ALREADY_EXISTS);
    const plain = (await c.call(Echo, envelope('plain')).catch((e: unknown) => e)) as TtrpcStatusError;
    expect(plain.code).toBe(Code.UNKNOWN);
    expect(plain.grpcMessage).toBe('boom');
  });

  it('answers Unimplemented for an unknown method', async () => {
    const c = await connect();
    const err = (await c.callRaw('/no.Such/Method', Buffer.alloc(0)).catch((e: unknown) => e)) as TtrpcStatusError;
    expect(err.code).toBe(Code.UNIMPLEMENTED);
  });

  it('times out one call locally without disturbing the connection', async () => {
    const c = await connect();
    const slow = await c.call(Echo, envelope('slow', 300), { timeoutMs: 50 }).catch((e: unknown) => e);
    expect((slow as BerthError).code).toBe(Code.DEADLINE_EXCEEDED);
    expect(c.inFlight).toBe(0);
    expect((await c.call(Echo, envelope('after'))).envelope?.topic).toBe('after');
  });

  it('aborts a call through an AbortSignal', async () => {
    const c = await connect();
    const ac = new AbortController();
    const p = c.call(Echo, envelope('abort-me', 200), { signal: ac.signal });
    ac.abort(new Error('caller gave up'));
    await expect(p).rejects.toThrow('caller gave up');
  });

  it('rejects pending calls when the client closes, and later calls at once', async () => {
    const c = await connect();
    let closeReason: Error | undefined;
    c.on('close', (r) => (closeReason = r));
    const p = c.call(Echo, envelope('pending', 500));
    c.close();
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TtrpcClosedError);
    expect((err as BerthError).code).toBe(Code.UNAVAILABLE);
    expect((err as Error).message).toMatch(/test\.Echo\/Echo: .*closed by this client/);
    expect(closeReason).toBeInstanceOf(TtrpcClosedError);
    await expect(c.call(Echo, envelope('x'))).rejects.toBeInstanceOf(TtrpcClosedError);
  });

  it('fails to connect to a missing socket with UNAVAILABLE', async () => {
    const err = await TtrpcClient.connect(join(dir, 'nope.sock')).catch((e: unknown) => e);
    expect((err as BerthError).code).toBe(Code.UNAVAILABLE);
    expect((err as Error).message).toContain('nope.sock');
  });
});

describe('ttrpc client against a misbehaving peer', () => {
  let raw: Server;
  let rawPath: string;
  let behaviour: (body: Buffer, reply: (b: Buffer) => void, rawWrite: (b: Buffer) => void, end: () => void) => void;

  beforeAll(async () => {
    rawPath = join(dir, 'raw.sock');
    raw = createServer((s) => {
      const d = new FrameDecoder();
      s.on('data', (chunk: Buffer) => {
        for (const f of d.push(chunk)) {
          behaviour(
            Buffer.from(f.body),
            (b) => s.write(encodeFrame(f.streamId, FrameType.RESPONSE, b)),
            (b) => s.write(b),
            () => s.destroy(),
          );
        }
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => raw.listen(rawPath, r));
  });
  afterAll(() => new Promise<void>((r) => raw.close(() => r())));

  it('rejects all pending calls when the peer drops the connection', async () => {
    let n = 0;
    behaviour = (_b, _reply, _raw, end) => {
      if (++n === 3) end();
    };
    const c = await connect(rawPath);
    const results = await Promise.allSettled([1, 2, 3].map((i) => c.call(Echo, envelope(`x${i}`))));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(TtrpcClosedError);
      expect(((r as PromiseRejectedResult).reason as Error).message).toMatch(/closed by the peer/);
    }
    expect(c.closed).toBe(true);
  });

  it('drops the connection when the peer announces an oversized frame', async () => {
    behaviour = (_b, _reply, rawWrite) => {
      const header = Buffer.alloc(10);
      header.writeUInt32BE(MAX_MESSAGE_LENGTH + 1, 0);
      header.writeUInt32BE(1, 4);
      header[8] = FrameType.RESPONSE;
      rawWrite(header);
    };
    const c = await connect(rawPath);
    const err = await c.call(Echo, envelope('big')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TtrpcClosedError);
    expect((err as Error).message).toMatch(/bad frame.*over the 4194304-byte limit/);
    expect(c.closed).toBe(true);
  });

  it('ignores a response for a stream nobody waits on', async () => {
    behaviour = (_b, reply, rawWrite) => {
      rawWrite(encodeFrame(999, FrameType.RESPONSE, Buffer.alloc(0)));
      reply(Buffer.alloc(0));
    };
    const c = await connect(rawPath);
    expect(await c.call(EventsService.forward, ForwardRequest.fromPartial({}))).toEqual({});
  });

  it('reports a non-OK status from a foreign server with its gRPC code', async () => {
    behaviour = (_b, write) =>
      write(Buffer.from(Response.encode(Response.fromPartial({ status: { code: 9, message: 'container is not running' } })).finish()));
    const c = await connect(rawPath);
    const err = (await c.call(Echo, envelope('x')).catch((e: unknown) => e)) as TtrpcStatusError;
    expect(err.code).toBe(Code.FAILED_PRECONDITION);
    expect(err.grpcCode).toBe(9);
    expect(err.message).toContain('container is not running');
  });
});

describe('EventsServer', () => {
  it('decodes Forward envelopes into typed events, also as an async iterator', async () => {
    const { EventsServer } = await import('../../../src/runtimes/shim/events-server.js');
    const { TaskStart } = await import('../../../src/gen/containerd/events/task.js');
    const events = new EventsServer();
    const path = join(dir, 'events.sock');
    await events.listen(path);
    try {
      const ac = new AbortController();
      const iter = events.events(ac.signal);
      const first = iter.next();
      const c = await connect(path);
      const value = Buffer.from(TaskStart.encode({ containerId: 'c9', pid: 99 }).finish());
      await c.call(
        EventsService.forward,
        ForwardRequest.fromPartial({ envelope: { namespace: 'k8s.io', topic: '/tasks/start', event: { typeUrl: 'containerd.events.TaskStart', value } } }),
      );
      expect((await first).value).toMatchObject({ kind: 'start', containerId: 'c9', pid: 99, topic: '/tasks/start' });
      const bad = (await c.call(EventsService.forward, ForwardRequest.fromPartial({})).catch((e: unknown) => e)) as BerthError;
      expect(bad.code).toBe(Code.INVALID_ARGUMENT);
      ac.abort();
      expect((await iter.next()).done).toBe(true);
    } finally {
      await events.close();
    }
  });
});
