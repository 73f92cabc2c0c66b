/**
 * Pull benchmark: berth's pull + unpack against `skopeo copy` + `umoci unpack`, same image,
 * same local docker-registry, same run.
 *
 *   node --import ./bench/ts-loader.mjs bench/pull/run.ts [rounds=3] [MiB=100]
 *
 * The image (~MiB of content in 6 layers: the busybox base, incompressible random files,
 * compressible text, many small files; all gzip, since Debian's umoci has no zstd) is built in memory and pushed once. Each
 * round pulls it from scratch into a fresh temp dir with both tools and prints the times; the
 * summary prints medians and the ratio ours / theirs (< 1 means berth is faster).
 * Run by hand on an otherwise idle machine; nothing here asserts anything.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ImageService } from '../../src/images/index.js';
import { setLogLevel } from '../../src/util/log.js';
import { buildImage, busybox, file, pushImage, type Entry } from '../../test/fixtures/image-builder.js';
import { startRegistry } from '../../test/fixtures/registry.js';

const run = promisify(execFile);
const rounds = Number(process.argv[2] ?? 3);
const mib = Number(process.argv[3] ?? 100);
const MB = 1 << 20;

function randomFiles(dir: string, total: number, each: number): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i * each < total; i++) out.push(file(`${dir}/r${i}.bin`, randomBytes(Math.min(each, total - i * each))));
  return out;
}

function textFiles(dir: string, total: number, each: number): Entry[] {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'kernel', 'cgroup', 'overlay', 'runtime', 'container', 'pod'];
  const out: Entry[] = [];
  for (let i = 0; i * each < total; i++) {
    let s = '';
    while (s.length < each) s += `${words[(Math.random() * words.length) | 0]} ${(Math.random() * 1e6) | 0}\n`;
    out.push(file(`${dir}/t${i}.txt`, s.slice(0, each)));
  }
  return out;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main() {
  setLogLevel('warn');
  const share = (f: number) => Math.round(mib * MB * f);
  const spec = busybox({
    format: 'oci',
    layers: [
      { entries: randomFiles('/data/random', share(0.3), 4 * MB) },
      { entries: textFiles('/data/text', share(0.3), 1 * MB) },
      { entries: randomFiles('/data/small', share(0.1), 8 * 1024).concat(textFiles('/data/small-text', share(0.05), 4 * 1024)) },
      // gzip: Debian's umoci cannot unpack zstd layers.
      { entries: textFiles('/data/text2', share(0.15), 2 * MB) },
      { entries: randomFiles('/data/more', share(0.1), 16 * MB) },
    ],
  });
  console.log(`building a ${mib} MiB image…`);
  const image = await buildImage(spec);
  const compressed = image.layers.reduce((n, l) => n + l.size, 0);
  const raw = image.layers.reduce((n, l) => n + l.tar.length, 0);
  console.log(`layers: ${image.layers.length}, compressed ${(compressed / MB).toFixed(1)} MiB, uncompressed ${(raw / MB).toFixed(1)} MiB`);

  const reg = await startRegistry();
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-'));
  try {
    await pushImage(reg, 'bench/img', '1', image);
    const ref = `${reg.host}/bench/img:1`;
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const root = join(work, `berth-${r}`);
      const svc = await ImageService.open({ root, registry: { mirrors: {}, insecure: [reg.host], auths: {} }, gcOnOpen: false });
      const a = await timed(() => svc.pull(ref));
      await svc.close();
      const oci = join(work, `oci-${r}`);
      const bundle = join(work, `bundle-${r}`);
      const b = await timed(async () => {
        await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${oci}:img`]);
        await run('umoci', ['unpack', '--image', `${oci}:img`, bundle]);
      });
      ours.push(a);
      theirs.push(b);
      console.log(`round ${r + 1}: berth ${a.toFixed(0)} ms, skopeo+umoci ${b.toFixed(0)} ms`);
      await rm(root, { recursive: true, force: true });
      await rm(oci, { recursive: true, force: true });
      await rm(bundle, { recursive: true, force: true });
    }
    const [mo, mt] = [median(ours), median(theirs)];
    console.log(`median: berth ${mo.toFixed(0)} ms (${((compressed / MB) / (mo / 1000)).toFixed(0)} MiB/s compressed), ` +
      `skopeo+umoci ${mt.toFixed(0)} ms; ratio berth/skopeo+umoci = ${(mo / mt).toFixed(2)}`);
  } finally {
    await reg.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
