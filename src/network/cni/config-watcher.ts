/**
 * Keeps the loaded network current without a restart: fs.watch on the conf dir and the bin
 * dirs (debounced), plus on-demand re-checks, because fs.watch misses events on some file
 * systems (NFS, overlay lower layers, bind mounts replaced wholesale). status() answers from
 * the last load and, when that is older than `staleMs`, starts a fresh one in the background.
 */
import { watch, type FSWatcher } from 'node:fs';
import { logger } from '../../util/log.js';
import { loadNetworks, type CniStatus, type LoadedNetworks, type LoadOptions } from './config-load.js';

const log = logger('cni');

export interface WatcherOptions extends LoadOptions {
  debounceMs?: number;
  staleMs?: number;
}

export class ConfigWatcher {
  private current: LoadedNetworks = {
    status: { ready: false, reason: 'NoNetworkConfig', message: 'CNI config not loaded yet' },
  };
  private loadedAt = 0;
  private inflight: Promise<LoadedNetworks> | undefined;
  private again = false;
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: WatcherOptions) {}

  /** Start watching (best effort: directories that cannot be watched rely on re-checks). */
  watch(): void {
    for (const dir of [this.o.confDir, ...this.o.binDirs]) {
      try {
        const w = watch(dir, { persistent: false }, () => this.kick());
        w.on('error', (err) => log.debug({ err, dir }, 'CNI watch stopped; relying on re-checks'));
        this.watchers.push(w);
      } catch (err) {
        log.debug({ err, dir }, 'cannot watch CNI directory; relying on re-checks');
      }
    }
  }

  private kick(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload().catch(() => {}), this.o.debounceMs ?? 100);
    this.timer.unref();
  }

  /** The last verdict; schedules a background re-check when it is stale. */
  status(): CniStatus {
    if (Date.now() - this.loadedAt > (this.o.staleMs ?? 2_000) && !this.inflight && !this.closed) {
      void this.reload().catch(() => {});
    }
    return this.current.status;
  }

  networks(): LoadedNetworks {
    return this.current;
  }

  /** Load again now. Concurrent callers share one load; a call during a load causes one more. */
  reload(): Promise<LoadedNetworks> {
    if (this.inflight) {
      this.again = true;
      return this.inflight;
    }
    const run = async (): Promise<LoadedNetworks> => {
      do {
        this.again = false;
        const next = await loadNetworks(this.o);
        this.publish(next);
      } while (this.again && !this.closed);
      return this.current;
    };
    this.inflight = run().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private publish(next: LoadedNetworks): void {
    const before = this.current.status;
    this.current = next;
    this.loadedAt = Date.now();
    const s = next.status;
    if (before.ready !== s.ready || before.message !== s.message) {
      if (s.ready) log.info({ config: s.config?.file, network: s.config?.name }, s.message);
      else log.warn({ reason: s.reason }, `CNI network not ready: ${s.message}`);
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}
