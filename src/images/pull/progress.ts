/**
 * Pull progress events, per image and per layer. The CLI draws bars from these; the CRI
 * server may log them. Byte counts refer to compressed layer blobs.
 */
export type PullPhase =
  | 'resolving' // fetching manifests and config
  | 'resolved' // layer list known (layerCount, bytesTotal)
  | 'waiting' // layer queued for a download slot
  | 'downloading' // layer bytes arriving (bytesDone / bytesTotal)
  | 'downloaded'
  | 'exists' // layer already unpacked: nothing to do
  | 'extracting'
  | 'extracted'
  | 'done'; // image stored

export interface PullProgress {
  /** Normalised reference being pulled. */
  ref: string;
  phase: PullPhase;
  layer?: { index: number; digest: string; mediaType: string };
  layerCount?: number;
  bytesDone?: number;
  bytesTotal?: number;
  imageId?: string;
}

/**
 * Wrap `emit` so 'downloading' events of one layer come at most every `ms`; a dropped event
 * is delivered at the end of the interval (trailing edge), so the latest byte count always
 * arrives. Any other event of the layer supersedes a pending one.
 */
export function throttleDownloads(emit: (p: PullProgress) => void, ms = 100): (p: PullProgress) => void {
  const last = new Map<number, number>();
  const pending = new Map<number, { event: PullProgress; timer: NodeJS.Timeout }>();
  return (p) => {
    const index = p.layer?.index;
    if (index === undefined) return emit(p);
    const queued = pending.get(index);
    if (p.phase !== 'downloading' || p.bytesDone === p.bytesTotal) {
      if (queued) clearTimeout(queued.timer);
      pending.delete(index);
      return emit(p);
    }
    const now = Date.now();
    const prev = last.get(index);
    if (prev === undefined || now - prev >= ms) {
      if (queued) clearTimeout(queued.timer);
      pending.delete(index);
      last.set(index, now);
      return emit(p);
    }
    if (queued) {
      queued.event = p;
      return;
    }
    const entry = {
      event: p,
      timer: setTimeout(() => {
        pending.delete(index);
        last.set(index, Date.now());
        emit(entry.event);
      }, ms - (now - prev)),
    };
    entry.timer.unref();
    pending.set(index, entry);
  };
}
