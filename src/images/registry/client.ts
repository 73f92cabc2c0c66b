/**
 * OCI distribution v2 client (pull side): manifests and blobs of one repository, trying the
 * endpoints of registry/endpoints.ts in order — the next one on a connection error, timeout,
 * 404, 401/403 (a mirror may not have or allow it) or any other non-2xx — and answering
 * 401 challenges with the Authorizer (one retry per request).
 */
import { Readable } from 'node:stream';
import { BerthError } from '../../util/errors.js';
import { cancelledError } from '../cancel.js';
import { MANIFEST_ACCEPT } from '../media-types.js';
import type { Authorizer } from './auth/authorizer.js';
import type { Credentials } from './auth/credentials.js';
import type { Endpoint } from './endpoints.js';
import { failureFor, type Attempt } from './failures.js';
import { discard, readBody, TransportError, type HttpResponse, type HttpTransport } from './http.js';

export interface Repository {
  /** Registry host of the image reference, e.g. "docker.io". */
  domain: string;
  /** Repository path, e.g. "library/busybox". */
  path: string;
  endpoints: Endpoint[];
  credentials(endpoint: Endpoint): Credentials | undefined;
}

export interface ClientOptions {
  transport: HttpTransport;
  authorizer: Authorizer;
  timeoutMs: number;
  idleTimeoutMs: number;
}

export interface ManifestResponse {
  bytes: Buffer;
  contentType?: string;
  /** Docker-Content-Digest header, if sent. */
  digestHeader?: string;
  endpoint: Endpoint;
}

/** Largest manifest / index we accept. */
export const MANIFEST_LIMIT = 8 << 20;

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export class RegistryClient {
  constructor(private readonly opts: ClientOptions) {}

  async getManifest(repo: Repository, reference: string, signal?: AbortSignal, preferred?: Endpoint): Promise<ManifestResponse> {
    const what = `manifest ${repo.domain}/${repo.path}${reference.includes(':') ? '@' : ':'}${reference}`;
    return this.firstAnswer(repo, what, `manifests/${reference}`, { accept: MANIFEST_ACCEPT }, signal, preferred, async (res, endpoint) => {
      const bytes = await readBody(res, MANIFEST_LIMIT);
      return { bytes, contentType: header(res.headers['content-type']), digestHeader: header(res.headers['docker-content-digest']), endpoint };
    });
  }

  /** Open a blob for streaming; the caller reads (and verifies) `response.body`. */
  async getBlob(repo: Repository, digest: string, signal?: AbortSignal, preferred?: Endpoint): Promise<{ response: HttpResponse; endpoint: Endpoint }> {
    return this.firstAnswer(repo, `blob ${digest} of ${repo.domain}/${repo.path}`, `blobs/${digest}`, {}, signal, preferred, async (response, endpoint) => ({
      response,
      endpoint,
    }));
  }

  private async firstAnswer<T>(
    repo: Repository,
    what: string,
    path: string,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
    preferred: Endpoint | undefined,
    onOk: (res: HttpResponse, endpoint: Endpoint) => Promise<T>,
  ): Promise<T> {
    const order = preferred ? [preferred, ...repo.endpoints.filter((e) => e.base !== preferred.base)] : repo.endpoints;
    const attempts: Attempt[] = [];
    for (const endpoint of order) {
      if (signal?.aborted) throw cancelledError(what);
      try {
        const res = await this.send(repo, endpoint, path, headers, signal);
        if (res.status >= 200 && res.status < 300) return await onOk(res, endpoint);
        attempts.push({ endpoint: endpoint.base, kind: 'status', status: res.status, detail: await errorDetail(res) });
      } catch (err) {
        if (signal?.aborted || (err instanceof TransportError && err.kind === 'aborted')) throw cancelledError(what);
        if (err instanceof TransportError) attempts.push({ endpoint: endpoint.base, kind: 'transport', detail: err.message });
        else if (err instanceof BerthError) attempts.push({ endpoint: endpoint.base, kind: 'error', error: err });
        else throw err;
      }
    }
    throw failureFor(what, `${repo.domain}/${repo.path}`, attempts);
  }

  private async send(repo: Repository, endpoint: Endpoint, path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<HttpResponse> {
    const url = `${endpoint.base}/${repo.path}/${path}`;
    const ctx = {
      origin: new URL(endpoint.base).origin,
      scope: `repository:${repo.path}:pull`,
      credentials: repo.credentials(endpoint),
      forWhat: `${endpoint.host} (${repo.path})`,
      signal,
    };
    const request = (authorization: string | undefined) =>
      this.opts.transport.request(url, {
        headers: authorization ? { ...headers, authorization } : headers,
        timeoutMs: this.opts.timeoutMs,
        idleTimeoutMs: this.opts.idleTimeoutMs,
        skipTlsVerify: endpoint.skipTlsVerify,
        signal,
      });
    const res = await request(await this.opts.authorizer.header(ctx));
    if (res.status !== 401) return res;
    const body = await readBody(res, 64 << 10).catch(() => Buffer.alloc(0));
    const retry = await this.opts.authorizer.afterUnauthorized(ctx, res.headers['www-authenticate']);
    // No way to authenticate: hand back the 401 (body intact, for the error detail).
    return retry ? request(retry) : { ...res, body: Readable.from([body]) };
  }
}

/** "MANIFEST_UNKNOWN: manifest unknown" from a registry error body, best effort. */
async function errorDetail(res: HttpResponse): Promise<string | undefined> {
  try {
    const body = await readBody(res, 64 << 10);
    const doc = JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    const e = doc.errors?.[0];
    return e ? `(${[e.code, e.message].filter(Boolean).join(': ')})` : undefined;
  } catch {
    discard(res);
    return undefined;
  }
}
