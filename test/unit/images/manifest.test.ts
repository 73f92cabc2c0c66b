import { describe, expect, it } from 'vitest';
import { parseImageConfig, parseManifestDocument } from '../../../src/images/manifest.js';
import { layerCompression } from '../../../src/images/media-types.js';
import { Code } from '../../../src/util/errors.js';

const d = (c: string) => 'sha256:' + c.repeat(64);
const b = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('manifest documents', () => {
  it('parses a Docker schema2 manifest', () => {
    const doc = parseManifestDocument(
      b({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: d('a'), size: 10 },
        layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: d('b'), size: 20 }],
      }),
      undefined,
      'm',
    );
    expect(doc).toMatchObject({ kind: 'manifest', config: { digest: d('a'), size: 10 }, layers: [{ digest: d('b') }] });
  });

  it('classifies OCI documents without mediaType by the header or their shape', () => {
    const idx = b({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('c'), size: 1, platform: { os: 'linux', architecture: 'amd64' } }] });
    expect(parseManifestDocument(idx, undefined, 'm')).toMatchObject({ kind: 'index', manifests: [{ platform: { architecture: 'amd64' } }] });
    const man = b({ schemaVersion: 2, config: { mediaType: 'x', digest: d('a'), size: 1 }, layers: [] });
    expect(parseManifestDocument(man, 'application/vnd.oci.image.manifest.v1+json; charset=utf-8', 'm').kind).toBe('manifest');
    expect(parseManifestDocument(man, undefined, 'm').kind).toBe('manifest');
  });

  it.each([
    ['not json', Buffer.from('{'), /not valid JSON/],
    ['schema 1', b({ schemaVersion: 1, name: 'x', fsLayers: [] }), /schema 1/],
    ['unknown type', b({ mediaType: 'text/plain' }), /unsupported media type/],
    ['bad digest', b({ mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'x', digest: 'sha256:zz', size: 1 }, layers: [] }), /malformed digest/],
    ['bad size', b({ mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'x', digest: d('a'), size: -1 }, layers: [] }), /invalid size/],
    ['no layers', b({ mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'x', digest: d('a'), size: 1 } }), /no "layers"/],
  ])('refuses %s with FAILED_PRECONDITION', (_n, bytes, why) => {
    expect(() => parseManifestDocument(bytes, undefined, 'manifest x')).toThrow(why);
    try {
      parseManifestDocument(bytes, undefined, 'manifest x');
    } catch (e) {
      expect((e as { code: Code }).code).toBe(Code.FAILED_PRECONDITION);
    }
  });
});

describe('image config', () => {
  it('extracts the runtime fields, platform and diff ids', () => {
    const cfg = parseImageConfig(
      b({
        architecture: 'amd64',
        os: 'linux',
        created: '2024-01-01T00:00:00Z',
        config: {
          User: '1000:1000',
          Env: ['A=1'],
          Entrypoint: ['/bin/sh'],
          Cmd: null,
          WorkingDir: '/w',
          StopSignal: 'SIGINT',
          Labels: { a: 'b' },
          ExposedPorts: { '80/tcp': {} },
          Volumes: { '/data': {} },
        },
        rootfs: { type: 'layers', diff_ids: [d('1'), d('2')] },
      }),
      'cfg',
    );
    expect(cfg).toEqual({
      platform: { os: 'linux', architecture: 'amd64' },
      created: '2024-01-01T00:00:00Z',
      diffIds: [d('1'), d('2')],
      config: { User: '1000:1000', Env: ['A=1'], Entrypoint: ['/bin/sh'], WorkingDir: '/w', StopSignal: 'SIGINT', Labels: { a: 'b' }, ExposedPorts: ['80/tcp'], Volumes: ['/data'] },
    });
  });

  it('requires rootfs.diff_ids', () => {
    expect(() => parseImageConfig(b({ os: 'linux' }), 'cfg')).toThrow(/diff_ids/);
  });

  it('knows layer compressions', () => {
    expect(layerCompression('application/vnd.oci.image.layer.v1.tar+zstd')).toBe('zstd');
    expect(layerCompression('application/vnd.docker.image.rootfs.diff.tar.gzip')).toBe('gzip');
    expect(layerCompression('application/vnd.oci.image.layer.v1.tar')).toBe('none');
    expect(layerCompression('application/vnd.oci.image.layer.v1.tar+bzip2')).toBeUndefined();
  });
});
