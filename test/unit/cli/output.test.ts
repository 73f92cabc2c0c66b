import { describe, expect, it } from 'vitest';
import { ContainerStatus, PodSandbox, PodSandboxState } from '../../../src/gen/runtime/v1/api.js';
import { applyProgress, bar, newImageProgress, renderImage } from '../../../src/cli/output/progress.js';
import { renderTable } from '../../../src/cli/output/table.js';
import { formatAge, formatBytes, formatCores } from '../../../src/cli/output/units.js';
import { podRow, psTable } from '../../../src/cli/commands/ps.js';
import { imagesTable } from '../../../src/cli/commands/images.js';
import { formatStructured } from '../../../src/cli/output/format.js';

describe('units', () => {
  it('formats bytes, ages and cores', () => {
    expect([0, 512, 1536, 10 * 1024 * 1024, 5 * 2 ** 30].map(formatBytes)).toEqual(['0B', '512B', '1.5KiB', '10MiB', '5GiB']);
    expect([5_000, 192_000, 7_500_000, 97_200_000].map(formatAge)).toEqual(['5s', '3m12s', '2h5m', '1d3h']);
    expect([250_000_000, 1_500_000_000, undefined].map(formatCores)).toEqual(['250m', '1.50', '-']);
  });
});

describe('tables', () => {
  it('pads columns, right-aligns numbers, trims trailing spaces', () => {
    expect(renderTable([{ a: 'x', n: '5' }, { a: 'longer', n: '100' }], [{ header: 'NAME', value: (r) => r.a }, { header: 'N', value: (r) => r.n, right: true }])).toBe(
      'NAME       N\nx          5\nlonger   100\n',
    );
  });

  it('ps shows pods with their containers as a tree', () => {
    const now = Date.now();
    const p = PodSandbox.fromPartial({
      id: 'a'.repeat(64),
      metadata: { name: 'web', namespace: 'ns', uid: 'u', attempt: 0 },
      state: PodSandboxState.SANDBOX_READY,
      createdAt: BigInt(now - 65_000) * 1_000_000n,
      runtimeHandler: 'runc',
      annotations: { 'berth.dev/qos-class': 'LS', 'berth.dev/qos-tier': 'Burstable' },
    });
    const init = ContainerStatus.fromPartial({ id: 'b'.repeat(64), metadata: { name: 'init', attempt: 0 }, state: 2, exitCode: 0, createdAt: BigInt(now - 64_000) * 1_000_000n, image: { image: 'busybox', userSpecifiedImage: 'busybox:1' }, annotations: { 'berth.dev/container-kind': 'init' } });
    const app = ContainerStatus.fromPartial({ id: 'c'.repeat(64), metadata: { name: 'app', attempt: 0 }, state: 1, createdAt: BigInt(now - 60_000) * 1_000_000n, image: { image: 'busybox' } });
    const row = podRow(p, '10.0.0.2', [app, init], now);
    expect(row).toMatchObject({ state: 'Ready', qosClass: 'LS', qosTier: 'Burstable', ip: '10.0.0.2', age: '1m5s' });
    expect(row.containers.map((c) => [c.name, c.kind, c.state])).toEqual([['init', 'init', 'Exited(0)'], ['app', 'app', 'Running']]);
    const lines = psTable([row]).split('\n');
    expect(lines[0]).toMatch(/^POD \/ CONTAINER\s+ID\s+STATE\s+HANDLER\s+QOS\s+IP\s+AGE\s+IMAGE$/);
    expect(lines[1]).toMatch(/^ns\/web\s+aaaaaaaaaaaa\s+Ready\s+runc\s+LS\/Burstable\s+10\.0\.0\.2\s+1m5s$/);
    expect(lines[2]).toMatch(/^ ├─ init \(init\)\s+bbbbbbbbbbbb\s+Exited\(0\)\s+1m4s\s+busybox:1$/);
    expect(lines[3]).toMatch(/^ └─ app\s+cccccccccccc\s+Running\s+1m\s+busybox$/);
    expect(psTable([])).toContain('no pods');
  });

  it('images lists one line per tag', () => {
    const t = imagesTable([{ id: 'sha256:' + 'f'.repeat(64), repoTags: ['a:1', 'a:2'], repoDigests: [], size: 2048, pinned: true }]);
    expect(t.split('\n').slice(1, 3)).toEqual([expect.stringMatching(/^a:1\s+ffffffffffff\s+2KiB\s+pinned$/), expect.stringMatching(/^a:2/)]);
  });

  it('structured output turns bigints into strings', () => {
    expect(formatStructured({ n: 5n, b: Buffer.from('x') }, 'json')).toBe('{\n  "n": "5",\n  "b": "eA=="\n}\n');
    expect(formatStructured({ n: 5n }, 'yaml')).toBe('n: "5"\n');
  });
});

describe('pull progress', () => {
  it('tracks layers and renders a bar per layer', () => {
    const s = newImageProgress('busybox:1');
    expect(applyProgress(s, { ref: 'busybox:1', phase: 'resolved', layerCount: 2, bytesTotal: 3072 })).toBe('busybox:1: 2 layers, 3KiB');
    const layer = (index: number) => ({ index, digest: `sha256:${String(index).repeat(64)}`, mediaType: 'x' });
    applyProgress(s, { ref: 'busybox:1', phase: 'downloading', layer: layer(0), bytesDone: 512, bytesTotal: 2048 });
    expect(applyProgress(s, { ref: 'busybox:1', phase: 'exists', layer: layer(1), bytesTotal: 1024 })).toBe('  111111111111  1KiB  already present');
    const lines = renderImage(s, 80);
    expect(lines[0]).toBe('busybox:1: pulling 2 layers, 3KiB');
    expect(lines[1]).toMatch(/^ {2}000000000000 {2}\[#{8}-{22}\] {2}512B\/2KiB +downloading$/);
    expect(lines[2]).toMatch(/\[#{30}\]\s+1KiB\s+already present$/);
    expect(applyProgress(s, { ref: 'busybox:1', phase: 'extracted', layer: layer(0) })).toBe('  000000000000  2KiB  extracted');
    expect(applyProgress(s, { ref: 'busybox:1', phase: 'done', imageId: 'sha256:' + 'e'.repeat(64) })).toBe('busybox:1: done (eeeeeeeeeeee)');
    expect(bar(0, 0, 4)).toBe('[----]');
  });
});
