/**
 * Which HTTP client is faster for big blobs on loopback: Node's global fetch (undici) or
 * node:http? Pushes one random blob to a local docker-registry, then downloads it several
 * times with each, hashing with sha256 while streaming (what the pull path does), and prints
 * MB/s. Run: node --import ./bench/ts-loader.mjs bench/pull/http-transport.ts [MiB] [rounds]
 */
import { createHash, randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { startRegistry } from '../../test/fixtures/registry.js';
import { pushBlob, sha256 } from '../../test/fixtures/image-builder.js';

const mib = Number(process.argv[2] ?? 128);
const rounds = Number(process.argv[3] ?? 4);

async function viaFetch(url: string): Promise<string> {
  const res = await fetch(url);
  const h = createHash('sha256');
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) h.update(chunk);
  return 'sha256:' + h.digest('hex');
}

function viaHttp(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      if (res.statusCode === 307 || res.statusCode === 302) {
        res.resume();
        viaHttp(new URL(res.headers.location!, url).toString()).then(resolve, reject);
        return;
      }
      const h = createHash('sha256');
      res.on('data', (c: Buffer) => h.update(c));
      res.on('end', () => resolve('sha256:' + h.digest('hex')));
      res.on('error', reject);
    }).on('error', reject);
  });
}

const reg = await startRegistry();
try {
  const data = randomBytes(mib * 1024 * 1024);
  const digest = sha256(data);
  await pushBlob(reg, 'bench/blob', { digest, data });
  const url = `${reg.url}/v2/bench/blob/blobs/${digest}`;
  const results: Record<string, number[]> = { fetch: [], 'node:http': [] };
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of [['fetch', viaFetch], ['node:http', viaHttp]] as const) {
      const t0 = process.hrtime.bigint();
      const got = await fn(url);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (got !== digest) throw new Error(`${name}: digest mismatch`);
      results[name].push((mib / ms) * 1000);
    }
  }
  for (const [name, v] of Object.entries(results)) {
    const sorted = [...v].sort((a, b) => a - b);
    console.log(`${name.padEnd(10)} median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} MiB/s  (${v.map((x) => x.toFixed(0)).join(', ')})`);
  }
} finally {
  await reg.stop();
}
