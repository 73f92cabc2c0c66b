/**
 * Parsing and validation of the JSON documents of an image: index / manifest list, manifest,
 * and config. Pure: bytes in, typed values out; anything malformed → FAILED_PRECONDITION
 * naming the document (the bytes matched their digest, so the image itself is bad).
 */
import { failedPrecondition } from '../util/errors.js';
import { requireDigest } from './digest.js';
import { MediaType, isIndexType, isManifestType, isSchema1Type } from './media-types.js';
import type { Platform } from './platform.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface IndexDoc {
  kind: 'index';
  mediaType: string;
  manifests: Descriptor[];
}

export interface ManifestDoc {
  kind: 'manifest';
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** The parts of an image config the runtime uses (OCI image-spec `config` object). */
export interface ImageConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  StopSignal?: string;
  Labels?: Record<string, string>;
  /** Keys of ExposedPorts, e.g. "80/tcp". */
  ExposedPorts?: string[];
  /** Keys of Volumes, e.g. "/data". */
  Volumes?: string[];
}

export interface ParsedConfig {
  platform: Platform;
  config: ImageConfig;
  diffIds: string[];
  created?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(bytes: Uint8Array, what: string): Obj {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw failedPrecondition(`${what} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObj(doc)) throw failedPrecondition(`${what} is not a JSON object`);
  return doc;
}

function stringMap(v: unknown): Record<string, string> | undefined {
  if (!isObj(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

function parsePlatform(v: unknown): Platform | undefined {
  if (!isObj(v) || typeof v.os !== 'string' || typeof v.architecture !== 'string') return undefined;
  return { os: v.os, architecture: v.architecture, ...(typeof v.variant === 'string' && v.variant ? { variant: v.variant } : {}) };
}

export function parseDescriptor(v: unknown, what: string): Descriptor {
  if (!isObj(v)) throw failedPrecondition(`${what}: descriptor is not an object`);
  if (typeof v.mediaType !== 'string' || v.mediaType === '') throw failedPrecondition(`${what}: descriptor has no mediaType`);
  const digest = (() => {
    try {
      return requireDigest(v.digest, `${what}: descriptor`);
    } catch (err) {
      throw failedPrecondition((err as Error).message);
    }
  })();
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) {
    throw failedPrecondition(`${what}: descriptor ${digest} has invalid size ${JSON.stringify(v.size)}`);
  }
  const d: Descriptor = { mediaType: v.mediaType, digest, size: v.size };
  const platform = parsePlatform(v.platform);
  if (platform) d.platform = platform;
  const annotations = stringMap(v.annotations);
  if (annotations) d.annotations = annotations;
  return d;
}

/**
 * Classify and parse a manifest-ish document. `headerType` is the response Content-Type, used
 * only when the document has no `mediaType` field (allowed for OCI documents).
 */
export function parseManifestDocument(bytes: Uint8Array, headerType: string | undefined, what: string): IndexDoc | ManifestDoc {
  const doc = parseJson(bytes, what);
  const header = headerType?.split(';')[0].trim();
  let mediaType = typeof doc.mediaType === 'string' ? doc.mediaType : '';
  if (doc.schemaVersion === 1 || isSchema1Type(mediaType) || (!mediaType && header && isSchema1Type(header))) {
    throw failedPrecondition(`${what} is a Docker schema 1 manifest, which is not supported (re-push the image with a current client)`);
  }
  if (!mediaType) {
    if (header && (isIndexType(header) || isManifestType(header))) mediaType = header;
    else if (Array.isArray(doc.manifests)) mediaType = MediaType.ociIndex;
    else if (isObj(doc.config) && Array.isArray(doc.layers)) mediaType = MediaType.ociManifest;
  }
  if (isIndexType(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw failedPrecondition(`${what}: index has no "manifests" list`);
    return { kind: 'index', mediaType, manifests: doc.manifests.map((m, i) => parseDescriptor(m, `${what} manifests[${i}]`)) };
  }
  if (isManifestType(mediaType)) {
    if (!Array.isArray(doc.layers)) throw failedPrecondition(`${what}: manifest has no "layers" list`);
    return {
      kind: 'manifest',
      mediaType,
      config: parseDescriptor(doc.config, `${what} config`),
      layers: doc.layers.map((l, i) => parseDescriptor(l, `${what} layers[${i}]`)),
    };
  }
  throw failedPrecondition(`${what} has unsupported media type ${JSON.stringify(mediaType || header || '(none)')}`);
}

const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined;
const keys = (v: unknown): string[] | undefined => (isObj(v) ? Object.keys(v) : undefined);

/** Parse an image config blob (OCI `application/vnd.oci.image.config.v1+json` or Docker's). */
export function parseImageConfig(bytes: Uint8Array, what: string): ParsedConfig {
  const doc = parseJson(bytes, what);
  const rootfs = doc.rootfs;
  if (!isObj(rootfs) || !Array.isArray(rootfs.diff_ids)) throw failedPrecondition(`${what}: no rootfs.diff_ids`);
  const diffIds = rootfs.diff_ids.map((d, i) => {
    try {
      return requireDigest(d, `${what}: rootfs.diff_ids[${i}]`);
    } catch (err) {
      throw failedPrecondition((err as Error).message);
    }
  });
  const c = isObj(doc.config) ? doc.config : {};
  const config: ImageConfig = {};
  if (typeof c.User === 'string' && c.User) config.User = c.User;
  if (strings(c.Env)) config.Env = strings(c.Env);
  if (strings(c.Entrypoint)) config.Entrypoint = strings(c.Entrypoint);
  if (strings(c.Cmd)) config.Cmd = strings(c.Cmd);
  if (typeof c.WorkingDir === 'string' && c.WorkingDir) config.WorkingDir = c.WorkingDir;
  if (typeof c.StopSignal === 'string' && c.StopSignal) config.StopSignal = c.StopSignal;
  if (stringMap(c.Labels)) config.Labels = stringMap(c.Labels);
  if (keys(c.ExposedPorts)) config.ExposedPorts = keys(c.ExposedPorts);
  if (keys(c.Volumes)) config.Volumes = keys(c.Volumes);
  const platform: Platform = {
    os: typeof doc.os === 'string' ? doc.os : '',
    architecture: typeof doc.architecture === 'string' ? doc.architecture : '',
    ...(typeof doc.variant === 'string' && doc.variant ? { variant: doc.variant } : {}),
  };
  return { platform, config, diffIds, ...(typeof doc.created === 'string' ? { created: doc.created } : {}) };
}
