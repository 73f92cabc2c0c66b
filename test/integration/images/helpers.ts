/**
 * Shared setup for the image integration tests: a temp root for an ImageService, a registry
 * config for local (plain http) registries, and small assertions.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ImageService, type ImageServiceOptions } from '../../../src/images/index.js';
import type { RegistryConfig } from '../../../src/images/registry/config.js';
import { BerthError, Code } from '../../../src/util/errors.js';

export function registryConfig(over: Partial<RegistryConfig> = {}): RegistryConfig {
  return { mirrors: {}, insecure: [], auths: {}, requestTimeoutSeconds: 10, maxConcurrentDownloads: 3, ...over };
}

/** Open image services on temp roots; `cleanup()` closes them and removes the roots. */
export function serviceFactory() {
  const opened: ImageService[] = [];
  const roots: string[] = [];
  return {
    async root(): Promise<string> {
      const r = await mkdtemp(join(tmpdir(), 'berth-images-'));
      roots.push(r);
      return r;
    },
    async open(opts: Partial<ImageServiceOptions> & { registry: RegistryConfig; root?: string }): Promise<ImageService> {
      const svc = await ImageService.open({ ...opts, root: opts.root ?? (await this.root()) });
      opened.push(svc);
      return svc;
    },
    async cleanup() {
      for (const s of opened) await s.close().catch(() => {});
      for (const r of roots) await rm(r, { recursive: true, force: true });
    },
  };
}

/** Await `p`, expect it to fail with a BerthError of `code`; returns the error. */
export async function expectCode(p: Promise<unknown>, code: Code): Promise<BerthError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a failure').toBeInstanceOf(BerthError);
  expect(Code[(err as BerthError).code], (err as Error).message).toBe(Code[code]);
  return err as BerthError;
}

/** Names in a dir, or [] when it does not exist. */
export async function ls(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}
