/**
 * Pull images through berthd with progress: the admin API's long-polled pull route when the
 * daemon has it, else plain CRI PullImage (no progress). Ctrl-C cancels the pull in berthd.
 */
import type { PullPoll } from '../admin/images.js';
import { AdminError } from '../admin/client.js';
import type { CliContext } from './context.js';
import { failure } from './errors.js';
import { ProgressView, type ImageProgress } from './output/progress.js';

export interface Pulled {
  image: string;
  id: string;
}

async function pullViaAdmin(ctx: CliContext, image: string, view: ProgressView, state: ImageProgress, runtimeHandler: string): Promise<string | undefined> {
  let started: { id: string };
  try {
    started = await ctx.admin.post<{ id: string }>('/v1/images/pull', runtimeHandler ? { image, runtimeHandler } : { image });
  } catch (err) {
    if (err instanceof AdminError && err.status === 404) return undefined; // an older berthd
    throw err;
  }
  const cancel = () => void ctx.admin.request('DELETE', `/v1/images/pull?id=${started.id}`).catch(() => {});
  process.once('SIGINT', cancel);
  try {
    let after = 0;
    for (;;) {
      const poll = await ctx.admin.get<PullPoll>(`/v1/images/pull?id=${started.id}&after=${after}&waitMs=2000`);
      for (const e of poll.events) view.update(state, e);
      after = poll.next;
      if (!poll.done) continue;
      if (poll.error) throw failure(`pulling ${image} failed: ${poll.error.message}`);
      return poll.image!.id;
    }
  } finally {
    process.off('SIGINT', cancel);
  }
}

/** Pull one image, drawing its progress in `view`. */
export async function pullWithProgress(ctx: CliContext, image: string, view: ProgressView, runtimeHandler = ''): Promise<Pulled> {
  const state = view.add(image);
  try {
    const id = await pullViaAdmin(ctx, image, view, state, runtimeHandler);
    if (id) return { image, id };
    ctx.note(`berthd has no pull-progress route; pulling ${image} without progress`);
    const r = await ctx.image.pullImage({ image: { image, annotations: {}, userSpecifiedImage: image, runtimeHandler, imageRef: '' }, auth: undefined, sandboxConfig: undefined }, { deadlineMs: 0 });
    state.phase = 'done';
    state.imageId = r.imageRef;
    return { image, id: r.imageRef };
  } catch (err) {
    view.fail(state, err instanceof Error ? err.message : String(err));
    throw err;
  }
}

/**
 * Pull several images in parallel with one progress view; fails with the first error.
 * `runtimeHandler` as in CRI PullImage: for a guest-pull (CoCo) handler, metadata only.
 */
export async function pullAll(ctx: CliContext, images: string[], runtimeHandler = ''): Promise<Pulled[]> {
  if (images.length === 0) return [];
  const view = new ProgressView(ctx.io.stderr);
  try {
    const results = await Promise.allSettled(images.map((i) => pullWithProgress(ctx, i, view, runtimeHandler)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return results.map((r) => (r as PromiseFulfilledResult<Pulled>).value);
  } finally {
    view.finish();
  }
}

/** Whether berthd already has `image`. */
export async function hasImage(ctx: CliContext, image: string): Promise<boolean> {
  const r = await ctx.image.imageStatus({ image: { image, annotations: {}, userSpecifiedImage: '', runtimeHandler: '', imageRef: '' }, verbose: false });
  return r.image !== undefined;
}
