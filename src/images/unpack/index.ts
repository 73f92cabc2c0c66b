/**
 * Apply one OCI/Docker image layer to an empty snapshot directory for overlayfs, as
 * containerd's overlay snapshotter does: the layer tar is extracted into its own directory
 * and whiteouts become overlay whiteouts (`.wh.<name>` → char device 0:0 `<name>`;
 * `.wh..wh..opq` → trusted.overlay.opaque=y on the directory). The container rootfs is then
 * an overlay mount with the layer directories as lowerdir (top first).
 *
 * Pipeline: blob → gunzip / zstd → sha256 (must equal diff_id) → our tar reader → writer.
 */
import { createHash } from 'node:crypto';
import { lstat, open, readdir, realpath } from 'node:fs/promises';
import {
  BerthError,
  Code,
  dataLoss,
  errnoCode,
  failedPrecondition,
  internal,
  invalidArgument,
  messageOf,
  notFound,
  resourceExhausted,
  unimplemented,
} from '../../util/errors.js';
import { logger } from '../../util/log.js';
import { ByteSource } from './byte-source.js';
import { DecompressError, openDecompressed, type ZstdImpl } from './decompress.js';
import type { SinkLimits } from './file-sink.js';
import { InvalidEntryError } from './layer-path.js';
import { declaredCompression, describeUnsupportedMagic, detectCompression } from './media-types.js';
import { TarFormatError } from './tar-header.js';
import { TarReader } from './tar-reader.js';
import { LayerWriter } from './writer.js';
import { yieldToEventLoop } from '../../util/yield.js';

export { detectCompression } from './media-types.js';
export type { Compression } from './media-types.js';

export interface UnpackOptions {
  /** The layer blob as stored (compressed or not), already digest-verified. */
  blobPath: string;
  /** OCI/Docker layer media type; the compression is sniffed from the bytes anyway. */
  mediaType: string;
  /** "sha256:<hex>" of the uncompressed tar; verified while unpacking. */
  diffId: string;
  /** An empty directory (created by the caller) to fill. The caller removes it on error. */
  dest: string;
  signal?: AbortSignal;
}

/** Apparent size (file data + symlink targets) and number of entries in the snapshot. */
export interface UnpackResult {
  bytes: number;
  inodes: number;
}

/** Knobs for tests and benchmarks; production callers use unpackLayer(). */
export interface UnpackTuning {
  zstd?: ZstdImpl | 'auto';
  limits?: SinkLimits;
}

const log = logger('images.unpack');
const DIFF_ID = /^sha256:[0-9a-f]{64}$/;

export function unpackLayer(opts: UnpackOptions): Promise<UnpackResult> {
  return unpackLayerTuned(opts, {});
}

export async function unpackLayerTuned(opts: UnpackOptions, tuning: UnpackTuning): Promise<UnpackResult> {
  const { blobPath, mediaType, diffId, signal } = opts;
  if (!DIFF_ID.test(diffId)) throw invalidArgument(`layer diff_id must be "sha256:<64 hex>", got ${JSON.stringify(diffId)}`);
  const layer = `${diffId} (${blobPath})`;
  const declared = declaredCompression(mediaType);
  const { dest, destMode } = await checkDest(opts.dest);
  const head = await readHead(blobPath);
  const compression = detectCompression(head);
  const other = compression === 'none' ? describeUnsupportedMagic(head) : null;
  if (other) throw unimplemented(`layer ${layer} is ${other}-compressed, which image layers may not use`);
  if (compression !== declared) {
    log.debug({ diffId, mediaType, compression }, 'layer compression differs from its media type; using the bytes');
  }

  const started = performance.now();
  const source = openDecompressed(blobPath, compression, tuning.zstd ?? 'auto');
  const writer = new LayerWriter({ dest, destMode, log, signal, limits: tuning.limits });
  try {
    const { entries, digest } = await applyTar(source.chunks, writer, signal, layer);
    if (digest !== diffId) throw dataLoss(`layer ${layer}: diff_id mismatch: expected ${diffId} got ${digest}`);
    const result = await writer.finish();
    const secs = (performance.now() - started) / 1000;
    log.info({ diffId, entries, ...result, via: source.via, secs: +secs.toFixed(3) }, 'layer unpacked');
    return result;
  } catch (err) {
    await writer.abort();
    // A helper killed by the abort signal fails with its own message; report the cancel.
    if (signal?.aborted && !(err instanceof BerthError && err.code === Code.CANCELLED)) {
      throw new BerthError(Code.CANCELLED, `unpacking layer ${layer} was cancelled`, { cause: err });
    }
    throw mapError(err, layer, dest);
  } finally {
    await source.close();
  }
}

/**
 * Hash the uncompressed stream while parsing it and hand every entry to the writer. Returns
 * the entry count and the sha256 of all bytes (trailing zero blocks and padding included:
 * they are part of the diff_id).
 */
async function applyTar(
  chunks: AsyncIterable<Buffer>,
  writer: LayerWriter,
  signal: AbortSignal | undefined,
  layer: string,
): Promise<{ entries: number; digest: string }> {
  const hash = createHash('sha256');
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      hash.update(chunk);
      yield chunk;
    }
  }
  const bytes = new ByteSource(hashed());
  const reader = new TarReader(bytes);
  const yielder = new Yielder();
  const body = async (): Promise<Buffer | null> => {
    throwIfAborted(signal, layer);
    await yielder.maybeYield();
    return reader.readBody();
  };
  let entries = 0;
  for (;;) {
    throwIfAborted(signal, layer);
    await yielder.maybeYield();
    const entry = await reader.next();
    if (entry === null) break;
    entries++;
    await writer.apply(entry, body);
  }
  await bytes.drain();
  return { entries, digest: `sha256:${hash.digest('hex')}` };
}

/**
 * While decoded data is buffered, every await in the unpack loop resolves as a microtask, so
 * the event loop would not get a turn until the buffer drains. Give it one every few ms.
 */
class Yielder {
  private last = performance.now();

  async maybeYield(): Promise<void> {
    const now = performance.now();
    if (now - this.last < 4) return;
    await yieldToEventLoop();
    this.last = performance.now();
  }
}

function throwIfAborted(signal: AbortSignal | undefined, layer: string): void {
  if (signal?.aborted) throw new BerthError(Code.CANCELLED, `unpacking layer ${layer} was cancelled`);
}

/** dest must be an existing, empty directory; returns its real path and mode. */
async function checkDest(dest: string): Promise<{ dest: string; destMode: number }> {
  let real: string;
  try {
    real = await realpath(dest);
  } catch (err) {
    throw failedPrecondition(`unpack destination ${dest} does not exist: ${messageOf(err)}`, err);
  }
  const st = await lstat(real);
  if (!st.isDirectory()) throw failedPrecondition(`unpack destination ${dest} is not a directory`);
  const names = await readdir(real);
  if (names.length > 0) throw failedPrecondition(`unpack destination ${dest} is not empty (${names.length} entries)`);
  return { dest: real, destMode: st.mode & 0o7777 };
}

async function readHead(blobPath: string): Promise<Buffer> {
  let fh;
  try {
    fh = await open(blobPath, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw notFound(`layer blob ${blobPath} does not exist`, err);
    throw internal(`cannot open layer blob ${blobPath}: ${messageOf(err)}`, err);
  }
  try {
    const buf = Buffer.alloc(16);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function mapError(err: unknown, layer: string, dest: string): Error {
  if (err instanceof BerthError) return err;
  if (err instanceof TarFormatError || err instanceof DecompressError) {
    return dataLoss(`layer ${layer}: corrupt or truncated layer: ${err.message}`, err);
  }
  if (err instanceof InvalidEntryError) return dataLoss(`layer ${layer}: invalid layer: ${err.message}`, err);
  const code = errnoCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return resourceExhausted(`layer ${layer}: no space left unpacking into ${dest}: ${messageOf(err)}`, err);
  }
  return internal(`layer ${layer}: unpacking into ${dest} failed: ${messageOf(err)}`, err);
}
