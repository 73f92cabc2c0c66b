import { invalidArgument, unimplemented } from '../../util/errors.js';

export type Compression = 'gzip' | 'zstd' | 'none';

/**
 * Sniff the compression from the first bytes of a blob. The media type may lie (some
 * registries and tools label gzip layers as plain tar and vice versa), so the bytes win.
 * zstd skippable frames (magic 0x184D2A50..5F) count as zstd.
 */
export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4) {
    const magic = head.readUInt32LE(0);
    if (magic === 0xfd2fb528) return 'zstd';
    if (magic >>> 4 === 0x184d2a5) return 'zstd';
  }
  return 'none';
}

/** Other compressions we can name in an error message instead of failing on tar garbage. */
export function describeUnsupportedMagic(head: Buffer): string | null {
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (head.length >= 6 && head[0] === 0xfd && head.toString('latin1', 1, 6) === '7zXZ\0') return 'xz';
  return null;
}

const OCI_PREFIXES = ['application/vnd.oci.image.layer.v1.tar', 'application/vnd.oci.image.layer.nondistributable.v1.tar'];
const DOCKER_TYPES: Record<string, Compression> = {
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.diff.tar': 'none',
  'application/vnd.docker.image.rootfs.foreign.diff.tar': 'none',
  // Seen in the wild from old tools that never declared a type.
  'application/octet-stream': 'none',
};

/**
 * The compression a layer media type declares. Unknown or encrypted media types are
 * refused: they are not filesystem changesets we can apply.
 */
export function declaredCompression(mediaType: string): Compression {
  const mt = mediaType.split(';')[0]!.trim().toLowerCase();
  const docker = DOCKER_TYPES[mt];
  if (docker) return docker;
  for (const prefix of OCI_PREFIXES) {
    if (mt === prefix) return 'none';
    if (mt.startsWith(prefix + '+')) {
      const suffix = mt.slice(prefix.length + 1);
      if (suffix === 'gzip') return 'gzip';
      if (suffix === 'zstd') return 'zstd';
      if (suffix.includes('encrypted')) {
        throw unimplemented(`encrypted layers (${mediaType}) are not supported`);
      }
      throw invalidArgument(`unsupported layer compression in media type ${JSON.stringify(mediaType)}`);
    }
  }
  throw invalidArgument(`media type ${JSON.stringify(mediaType)} is not an image layer`);
}
