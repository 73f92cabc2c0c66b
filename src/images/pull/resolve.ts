/**
 * Resolve a reference to one image for this host: fetch the manifest (or index, then the
 * platform's manifest) and the config, verify every digest and size, store the documents in
 * the content store (under the caller's lease), and check the image can run here.
 */
import { dataLoss, failedPrecondition, notFound } from '../../util/errors.js';
import type { ContentStore } from '../content/store.js';
import { isSha256Digest, sha256Of } from '../digest.js';
import { parseImageConfig, parseManifestDocument, type Descriptor, type IndexDoc, type ManifestDoc, type ParsedConfig } from '../manifest.js';
import { layerCompression } from '../media-types.js';
import { formatPlatform, platformRunsOn, selectManifest, type Platform } from '../platform.js';
import { formatReference, repoName, type ImageReference } from '../reference.js';
import type { RegistryClient, Repository } from '../registry/client.js';
import type { Endpoint } from '../registry/endpoints.js';
import { readBody } from '../registry/http.js';
import type { Lease } from './leases.js';

/** Largest image config we accept. */
const CONFIG_LIMIT = 32 << 20;

export interface Resolved {
  /** What the reference pointed at (index or manifest): its digest is the repo digest. */
  target: { digest: string; mediaType: string; size: number };
  manifest: { digest: string; mediaType: string; size: number; doc: ManifestDoc };
  config: Descriptor;
  parsed: ParsedConfig;
  platform: Platform;
  /** The endpoint that served the manifest (tried first for blobs). */
  endpoint: Endpoint;
}

export interface ResolveDeps {
  client: RegistryClient;
  content: ContentStore;
  host: Platform;
}

interface Fetched {
  digest: string;
  size: number;
  doc: IndexDoc | ManifestDoc;
  endpoint: Endpoint;
}

async function fetchDocument(
  deps: ResolveDeps,
  repo: Repository,
  reference: string,
  expect: { digest?: string; size?: number },
  lease: Lease,
  signal?: AbortSignal,
  preferred?: Endpoint,
): Promise<Fetched> {
  const r = await deps.client.getManifest(repo, reference, signal, preferred);
  const name = `${repoName(repo)}${expect.digest ? '@' : ':'}${reference}`;
  const digest = sha256Of(r.bytes);
  const from = `from ${r.endpoint.base}`;
  if (expect.digest && digest !== expect.digest) {
    throw dataLoss(`manifest ${name} ${from}: content does not match its digest (got ${digest})`);
  }
  if (expect.size !== undefined && r.bytes.length !== expect.size) {
    throw dataLoss(`manifest ${name} ${from}: ${r.bytes.length} bytes, its descriptor says ${expect.size}`);
  }
  if (!expect.digest && r.digestHeader && isSha256Digest(r.digestHeader) && r.digestHeader !== digest) {
    throw dataLoss(`manifest ${name} ${from}: Docker-Content-Digest says ${r.digestHeader} but the content hashes to ${digest}`);
  }
  const doc = parseManifestDocument(r.bytes, r.contentType, `manifest ${name}`);
  lease.blob(digest);
  await deps.content.put(digest, r.bytes);
  return { digest, size: r.bytes.length, doc, endpoint: r.endpoint };
}

async function fetchConfig(deps: ResolveDeps, repo: Repository, desc: Descriptor, lease: Lease, signal: AbortSignal | undefined, preferred: Endpoint): Promise<Buffer> {
  if (desc.size > CONFIG_LIMIT) throw failedPrecondition(`image config ${desc.digest} of ${repoName(repo)} is ${desc.size} bytes; the limit is ${CONFIG_LIMIT}`);
  lease.blob(desc.digest);
  if (deps.content.has(desc.digest)) return deps.content.read(desc.digest);
  const { response } = await deps.client.getBlob(repo, desc.digest, signal, preferred);
  await deps.content.ingest(desc, response.body, { source: response.url });
  return deps.content.read(desc.digest);
}

export async function resolveImage(deps: ResolveDeps, ref: ImageReference, repo: Repository, lease: Lease, signal?: AbortSignal): Promise<Resolved> {
  const name = formatReference(ref);
  const top = await fetchDocument(deps, repo, ref.digest ?? ref.tag ?? 'latest', { digest: ref.digest }, lease, signal);
  let manifest: Fetched = top;
  let platform: Platform | undefined;
  if (top.doc.kind === 'index') {
    const entry = selectManifest(top.doc.manifests, deps.host);
    if (!entry) {
      const offered = top.doc.manifests.map((m) => (m.platform ? formatPlatform(m.platform) : m.mediaType)).join(', ') || 'nothing';
      throw notFound(`image ${name} has no manifest for ${formatPlatform(deps.host)} (its index offers: ${offered})`);
    }
    manifest = await fetchDocument(deps, repo, entry.digest, { digest: entry.digest, size: entry.size }, lease, signal, top.endpoint);
    if (manifest.doc.kind !== 'manifest') throw failedPrecondition(`image ${name}: index entry ${entry.digest} is not an image manifest`);
    platform = entry.platform;
  }
  const doc = manifest.doc as ManifestDoc;
  for (const l of doc.layers) {
    if (!layerCompression(l.mediaType)) throw failedPrecondition(`image ${name}: layer ${l.digest} has unsupported media type ${l.mediaType}`);
  }
  const configBytes = await fetchConfig(deps, repo, doc.config, lease, signal, manifest.endpoint);
  const parsed = parseImageConfig(configBytes, `image config ${doc.config.digest} of ${name}`);
  if (parsed.diffIds.length !== doc.layers.length) {
    throw failedPrecondition(`image ${name}: manifest has ${doc.layers.length} layers but the config lists ${parsed.diffIds.length} diff_ids`);
  }
  const cp = parsed.platform;
  if (!platform && cp.os && cp.architecture && !platformRunsOn(cp, deps.host)) {
    throw failedPrecondition(`image ${name} is for ${formatPlatform(cp)}; this host runs ${formatPlatform(deps.host)}`);
  }
  return {
    target: { digest: top.digest, mediaType: top.doc.mediaType, size: top.size },
    manifest: { digest: manifest.digest, mediaType: doc.mediaType, size: manifest.size, doc },
    config: doc.config,
    parsed,
    platform: platform ?? (cp.os && cp.architecture ? cp : deps.host),
    endpoint: manifest.endpoint,
  };
}
