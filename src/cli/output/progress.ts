/**
 * Pull progress bars: a pure model fed with PullProgress events and a renderer that draws
 * one bar per layer (bytes done / total). On a terminal the block is redrawn in place; into
 * a pipe or file only finished steps are printed, one line each.
 */
import type { PullProgress } from '../../images/index.js';
import { formatBytes, shortId } from './units.js';

export interface LayerState {
  index: number;
  digest: string;
  phase: PullProgress['phase'];
  bytesDone: number;
  bytesTotal: number;
}

export interface ImageProgress {
  ref: string;
  phase: PullProgress['phase'] | 'failed';
  layerCount?: number;
  bytesTotal?: number;
  layers: Map<number, LayerState>;
  imageId?: string;
  error?: string;
}

export function newImageProgress(ref: string): ImageProgress {
  return { ref, phase: 'resolving', layers: new Map() };
}

/** Fold one event into the state; returns a line to print on a non-terminal, if any. */
export function applyProgress(s: ImageProgress, p: PullProgress): string | undefined {
  if (p.layer) {
    const prev = s.layers.get(p.layer.index);
    const l: LayerState = prev ?? { index: p.layer.index, digest: p.layer.digest, phase: p.phase, bytesDone: 0, bytesTotal: 0 };
    l.phase = p.phase;
    if (p.bytesTotal !== undefined) l.bytesTotal = p.bytesTotal;
    if (p.bytesDone !== undefined) l.bytesDone = p.bytesDone;
    if (p.phase === 'downloaded' || p.phase === 'extracting' || p.phase === 'extracted' || p.phase === 'exists') l.bytesDone = l.bytesTotal;
    s.layers.set(l.index, l);
    if (p.phase === 'downloaded' || p.phase === 'extracted' || p.phase === 'exists') {
      const what = p.phase === 'exists' ? 'already present' : p.phase;
      return `  ${shortId(l.digest)}  ${formatBytes(l.bytesTotal)}  ${what}`;
    }
    return undefined;
  }
  s.phase = p.phase;
  if (p.layerCount !== undefined) s.layerCount = p.layerCount;
  if (p.bytesTotal !== undefined) s.bytesTotal = p.bytesTotal;
  if (p.imageId) s.imageId = p.imageId;
  if (p.phase === 'resolved') return `${s.ref}: ${p.layerCount ?? '?'} layers, ${formatBytes(p.bytesTotal)}`;
  if (p.phase === 'done') return `${s.ref}: done${p.imageId ? ` (${shortId(p.imageId)})` : ''}`;
  return undefined;
}

export function bar(done: number, total: number, width: number): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  const full = Math.round(ratio * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

const LAYER_WORD: Partial<Record<PullProgress['phase'], string>> = {
  waiting: 'waiting',
  downloading: 'downloading',
  downloaded: 'downloaded',
  exists: 'already present',
  extracting: 'extracting',
  extracted: 'done',
};

/** The lines of one image's block (pure). */
export function renderImage(s: ImageProgress, width = 80): string[] {
  const head =
    s.phase === 'failed'
      ? `${s.ref}: failed: ${s.error ?? ''}`
      : s.phase === 'done'
        ? `${s.ref}: done${s.imageId ? ` (${shortId(s.imageId)})` : ''}`
        : `${s.ref}: ${s.phase === 'resolving' ? 'resolving' : 'pulling'}${s.layerCount !== undefined ? ` ${s.layerCount} layers, ${formatBytes(s.bytesTotal)}` : ''}`;
  const barWidth = Math.max(10, Math.min(30, width - 50));
  const layers = [...s.layers.values()]
    .sort((a, b) => a.index - b.index)
    .map((l) => {
      const size = l.phase === 'downloading' ? `${formatBytes(l.bytesDone)}/${formatBytes(l.bytesTotal)}` : formatBytes(l.bytesTotal);
      return `  ${shortId(l.digest)}  ${bar(l.bytesDone, l.bytesTotal, barWidth)}  ${size.padEnd(17)} ${LAYER_WORD[l.phase] ?? l.phase}`;
    });
  return [head, ...layers];
}

/** Draws the blocks of several pulls on a stream; redraws in place on a terminal. */
export class ProgressView {
  private readonly images: ImageProgress[] = [];
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }) {}

  get tty(): boolean {
    return this.out.isTTY === true;
  }

  add(ref: string): ImageProgress {
    const s = newImageProgress(ref);
    this.images.push(s);
    if (!this.tty) this.out.write(`pulling ${ref}\n`);
    this.schedule();
    return s;
  }

  update(s: ImageProgress, p: PullProgress): void {
    const line = applyProgress(s, p);
    if (!this.tty) {
      if (line) this.out.write(line + '\n');
      return;
    }
    this.schedule();
  }

  fail(s: ImageProgress, message: string): void {
    s.phase = 'failed';
    s.error = message;
    if (this.tty) this.draw();
  }

  /** Draw the final state and stop redrawing. */
  finish(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.tty) this.draw();
  }

  private schedule(): void {
    if (!this.tty || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, 100);
  }

  private draw(): void {
    const width = this.out.columns ?? 80;
    const lines = this.images.flatMap((s) => renderImage(s, width)).map((l) => l.slice(0, width - 1));
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const l of lines) text += `\r\x1b[2K${l}\n`;
    this.out.write(text);
    this.drawn = lines.length;
  }
}
