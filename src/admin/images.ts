/**
 * Image pulls with progress on the admin API, for the `berth` CLI's progress bars (the CRI
 * PullImage RPC has no progress stream). The admin server answers each request with one
 * JSON document, so progress is long-polled:
 *
 *   POST   /v1/images/pull  {image, auth?}        → {id}   (the pull runs in berthd)
 *   GET    /v1/images/pull?id=ID&after=N&waitMs=M → {events, next, done, image?, error?}
 *          waits up to M ms (default 2000, at most 10000) for events after the N-th;
 *          `next` is the N to ask with next time
 *   DELETE /v1/images/pull?id=ID                  → cancels the pull
 *
 * A pull's record is dropped a minute after it ends. Pull events are PullProgress
 * (src/images/pull/progress.ts); 'downloading' events come at most every 100 ms per layer.
 */
import { ImageSpec } from '../gen/runtime/v1/api.js';
import { choosePullHandler, type PullHandlerSource } from '../cri/images.js';
import { randomBytes } from 'node:crypto';
import type { ImageInfo, ImageService, PullProgress } from '../images/index.js';
import { throttleDownloads } from '../images/pull/progress.js';
import { BerthError, Code, invalidArgument, messageOf, notFound } from '../util/errors.js';
import type { AdminServer } from './server.js';

const KEEP_DONE_MS = 60_000;
const MAX_WAIT_MS = 10_000;
const DEFAULT_WAIT_MS = 2_000;

export interface PulledImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
}

export interface PullPoll {
  events: PullProgress[];
  next: number;
  done: boolean;
  image?: PulledImage;
  error?: { message: string; code: string };
}

interface PullAuth {
  username?: string;
  password?: string;
  auth?: string;
  identityToken?: string;
  registryToken?: string;
}

class PullSession {
  readonly events: PullProgress[] = [];
  readonly abort = new AbortController();
  done = false;
  image?: PulledImage;
  error?: { message: string; code: string };
  private waiters = new Set<() => void>();

  push(p: PullProgress): void {
    this.events.push(p);
    this.wake();
  }

  finish(result: { image?: ImageInfo; error?: unknown }): void {
    this.done = true;
    if (result.image) {
      const i = result.image;
      this.image = { id: i.id, repoTags: i.repoTags, repoDigests: i.repoDigests, size: i.size };
    }
    if (result.error !== undefined) {
      const e = result.error;
      this.error = { message: messageOf(e), code: e instanceof BerthError ? Code[e.code] : 'INTERNAL' };
    }
    this.wake();
  }

  /** Resolve when there are events after `after`, the pull ended, or `ms` passed. */
  wait(after: number, ms: number): Promise<void> {
    if (this.done || this.events.length > after || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

function sessionOf(sessions: Map<string, PullSession>, query: URLSearchParams): PullSession {
  const id = query.get('id') ?? '';
  const s = sessions.get(id);
  if (!s) throw notFound(`no pull ${JSON.stringify(id)} (it finished more than a minute ago, or berthd restarted)`);
  return s;
}

function intParam(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw invalidArgument(`query parameter ${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** Register the pull routes on the admin server. */
export function registerImageRoutes(admin: AdminServer, images: ImageService, handlers?: PullHandlerSource): void {
  const sessions = new Map<string, PullSession>();

  admin.route('POST', '/v1/images/pull', async (req) => {
    const body = (req.body ?? {}) as { image?: unknown; auth?: PullAuth; runtimeHandler?: unknown };
    if (typeof body.image !== 'string' || !body.image.trim()) throw invalidArgument('body must be {"image": "<reference>", "runtimeHandler"?: "<name>"}');
    if (body.runtimeHandler !== undefined && typeof body.runtimeHandler !== 'string') throw invalidArgument('runtimeHandler must be a string');
    // Like CRI PullImage with image.runtime_handler: a guest-pull handler gets metadata only.
    const choice = choosePullHandler({ image: ImageSpec.fromPartial({ image: body.image, runtimeHandler: body.runtimeHandler ?? '' }) }, handlers, undefined);
    const id = randomBytes(8).toString('hex');
    const s = new PullSession();
    sessions.set(id, s);
    images
      .pull(body.image.trim(), { auth: body.auth, layers: !choice.guest, signal: s.abort.signal, onProgress: throttleDownloads((p) => s.push(p)) })
      .then(
        (image) => s.finish({ image }),
        (error: unknown) => s.finish({ error }),
      )
      .finally(() => setTimeout(() => sessions.delete(id), KEEP_DONE_MS).unref());
    return { id };
  });

  admin.route('GET', '/v1/images/pull', async (req): Promise<PullPoll> => {
    const s = sessionOf(sessions, req.query);
    const after = intParam(req.query, 'after', 0);
    await s.wait(after, Math.min(MAX_WAIT_MS, intParam(req.query, 'waitMs', DEFAULT_WAIT_MS)));
    const events = s.events.slice(after);
    const next = after + events.length;
    // Done only once the caller has every event.
    const done = s.done && next >= s.events.length;
    return { events, next, done, ...(done ? { image: s.image, error: s.error } : {}) };
  });

  admin.route('DELETE', '/v1/images/pull', async (req) => {
    const s = sessionOf(sessions, req.query);
    if (!s.done) s.abort.abort(new BerthError(Code.CANCELLED, 'pull cancelled by the client'));
    return { cancelled: !s.done };
  });
}
