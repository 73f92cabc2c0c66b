/** The admin API's long-polled pull route (src/admin/images.ts) over a fake image service. */
import { describe, expect, it } from 'vitest';
import { registerImageRoutes, type PullPoll } from '../../../src/admin/images.js';
import type { AdminHandler, AdminServer } from '../../../src/admin/server.js';
import type { ImageService, PullOptions, PullProgress } from '../../../src/images/index.js';
import { BerthError, Code } from '../../../src/util/errors.js';

const HANDLERS = {
  names: () => ['runc', 'kata-qemu-coco-dev'],
  get: (n: string) => (n === 'runc' ? { imagePull: 'host' as const } : n === 'kata-qemu-coco-dev' ? { imagePull: 'guest' as const } : undefined),
};

function harness(pull: (ref: string, o: PullOptions) => Promise<unknown>) {
  const routes = new Map<string, AdminHandler>();
  const admin = { route: (m: string, p: string, h: AdminHandler) => routes.set(`${m} ${p}`, h) } as unknown as AdminServer;
  registerImageRoutes(admin, { pull } as unknown as ImageService, HANDLERS);
  const call = <T>(method: string, path: string, body?: unknown) => {
    const u = new URL(path, 'http://x');
    return routes.get(`${method} ${u.pathname}`)!({ method: method as 'GET', path: u.pathname, query: u.searchParams, body, rawBody: '' }) as Promise<T>;
  };
  return { call };
}

describe('pull route', () => {
  it('starts a pull, long-polls its events in order, and ends with the image', async () => {
    let emit!: (p: PullProgress) => void;
    let finish!: () => void;
    const h = harness((ref, o) => {
      emit = o.onProgress!;
      return new Promise((resolve) => (finish = () => resolve({ id: 'sha256:img', repoTags: [ref], repoDigests: [], size: 10 })));
    });
    const { id } = await h.call<{ id: string }>('POST', '/v1/images/pull', { image: ' busybox ' });
    // Nothing yet: the poll waits for the first event.
    const waiting = h.call<PullPoll>('GET', `/v1/images/pull?id=${id}&after=0&waitMs=5000`);
    emit({ ref: 'busybox', phase: 'resolving' });
    expect(await waiting).toEqual({ events: [{ ref: 'busybox', phase: 'resolving' }], next: 1, done: false });
    emit({ ref: 'busybox', phase: 'resolved', layerCount: 1, bytesTotal: 10 });
    finish();
    await new Promise((r) => setTimeout(r, 0));
    const last = await h.call<PullPoll>('GET', `/v1/images/pull?id=${id}&after=1`);
    expect(last).toMatchObject({ next: 2, done: true, image: { id: 'sha256:img', repoTags: ['busybox'] } });
    expect(last.events.map((e) => e.phase)).toEqual(['resolved']);
  });

  it('reports a failed pull with its error code, and refuses bad requests', async () => {
    const h = harness(async () => {
      throw new BerthError(Code.NOT_FOUND, 'manifest unknown');
    });
    const { id } = await h.call<{ id: string }>('POST', '/v1/images/pull', { image: 'nope' });
    const r = await h.call<PullPoll>('GET', `/v1/images/pull?id=${id}&waitMs=5000`);
    expect(r).toMatchObject({ done: true, error: { message: 'manifest unknown', code: 'NOT_FOUND' } });
    await expect(h.call('POST', '/v1/images/pull', {})).rejects.toThrow(/body must be/);
    await expect(h.call('GET', '/v1/images/pull?id=zzz')).rejects.toThrow(/no pull "zzz"/);
    await expect(h.call('GET', `/v1/images/pull?id=${id}&after=-1`)).rejects.toThrow(/non-negative integer/);
  });

  it('pulls metadata only for a guest-pull runtime handler, layers for the others; refuses unknown handlers', async () => {
    const seen: Array<boolean | undefined> = [];
    const h = harness(async (ref, o) => {
      seen.push(o.layers);
      return { id: 'sha256:img', repoTags: [ref], repoDigests: [], size: 1 };
    });
    await h.call('POST', '/v1/images/pull', { image: 'busybox', runtimeHandler: 'kata-qemu-coco-dev' });
    await h.call('POST', '/v1/images/pull', { image: 'busybox', runtimeHandler: 'runc' });
    await h.call('POST', '/v1/images/pull', { image: 'busybox' });
    expect(seen).toEqual([false, true, true]);
    await expect(h.call('POST', '/v1/images/pull', { image: 'busybox', runtimeHandler: 'nope' })).rejects.toThrow(/unknown runtime handler "nope".*runc, kata-qemu-coco-dev/);
  });

  it('DELETE cancels the pull through its abort signal', async () => {
    let signal!: AbortSignal;
    const h = harness(
      (_ref, o) =>
        new Promise((_resolve, reject) => {
          signal = o.signal!;
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    );
    const { id } = await h.call<{ id: string }>('POST', '/v1/images/pull', { image: 'x' });
    expect(await h.call('DELETE', `/v1/images/pull?id=${id}`)).toEqual({ cancelled: true });
    const r = await h.call<PullPoll>('GET', `/v1/images/pull?id=${id}&waitMs=5000`);
    expect(r).toMatchObject({ done: true, error: { code: 'CANCELLED' } });
  });
});
