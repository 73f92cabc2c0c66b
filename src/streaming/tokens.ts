/**
 * One-time tokens for streaming URLs. Exec/Attach/PortForward store the request here and
 * hand the client a URL with the token; the first connection that presents the token takes
 * the request, later ones (and any after the time-to-live) find nothing.
 */
import { randomBytes } from 'node:crypto';
import { resourceExhausted } from '../util/errors.js';
import type { AttachRequest, ExecRequest, PortForwardRequest } from './runtime.js';

export type StreamKind = 'exec' | 'attach' | 'portforward';

export type CachedRequest =
  | { kind: 'exec'; req: ExecRequest }
  | { kind: 'attach'; req: AttachRequest }
  | { kind: 'portforward'; req: PortForwardRequest };

export interface RequestCacheOptions {
  ttlMs?: number;
  maxInFlight?: number;
  now?: () => number;
}

interface Entry {
  expires: number;
  request: CachedRequest;
}

export class RequestCache {
  private readonly entries = new Map<string, Entry>(); // insertion order = age order
  private readonly ttlMs: number;
  private readonly maxInFlight: number;
  private readonly now: () => number;

  constructor(o: RequestCacheOptions = {}) {
    this.ttlMs = o.ttlMs ?? 60_000;
    this.maxInFlight = o.maxInFlight ?? 1000;
    this.now = o.now ?? Date.now;
  }

  insert(request: CachedRequest): string {
    this.gc();
    if (this.entries.size >= this.maxInFlight) {
      throw resourceExhausted(
        `too many pending streaming requests (${this.entries.size}, limit ${this.maxInFlight}); ` +
          `connect to the URLs already handed out or wait ${Math.ceil(this.ttlMs / 1000)} s for them to expire`,
      );
    }
    let token: string;
    do token = randomBytes(16).toString('base64url');
    while (this.entries.has(token));
    this.entries.set(token, { expires: this.now() + this.ttlMs, request });
    return token;
  }

  /** Take the request for a token (once), if it exists, is unexpired and of this kind. */
  consume(token: string, kind: StreamKind): CachedRequest | undefined {
    const e = this.entries.get(token);
    if (!e) return undefined;
    this.entries.delete(token);
    if (this.now() > e.expires || e.request.kind !== kind) return undefined;
    return e.request;
  }

  get size(): number {
    return this.entries.size;
  }

  private gc(): void {
    const now = this.now();
    for (const [token, e] of this.entries) {
      if (e.expires >= now) break;
      this.entries.delete(token);
    }
  }
}
