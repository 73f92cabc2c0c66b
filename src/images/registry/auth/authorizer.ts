/**
 * Decides the Authorization header for registry requests. It remembers, per endpoint
 * origin, the challenge the registry last sent (so later requests authenticate up front
 * instead of collecting a 401 each time) and keeps bearer tokens in a TokenCache per
 * realm + service + scope + credential.
 */
import type { HttpTransport } from '../http.js';
import { parseChallenges, type Challenge } from './challenge.js';
import { credentialId, type Credentials } from './credentials.js';
import { fetchToken } from './token.js';
import { TokenCache } from './token-cache.js';

export interface AuthContext {
  /** Origin of the endpoint, e.g. "http://127.0.0.1:5000". */
  origin: string;
  scope: string;
  credentials?: Credentials;
  forWhat: string;
  signal?: AbortSignal;
}

export interface AuthorizerOptions {
  transport: HttpTransport;
  tokens?: TokenCache;
  timeoutMs: number;
  /** host[:port]s whose TLS certificates are not verified (token realms included). */
  insecure: readonly string[];
}

export class Authorizer {
  readonly tokens: TokenCache;
  private readonly challenges = new Map<string, Challenge>();

  constructor(private readonly opts: AuthorizerOptions) {
    this.tokens = opts.tokens ?? new TokenCache();
  }

  /** The header to send before knowing whether the registry wants one (undefined: none). */
  async header(ctx: AuthContext): Promise<string | undefined> {
    if (ctx.credentials?.kind === 'bearer') return `Bearer ${ctx.credentials.token}`;
    const ch = this.challenges.get(ctx.origin);
    if (!ch) return undefined;
    return this.answer(ch, ctx, false);
  }

  /**
   * After a 401: remember the challenge and return the header to retry with (a freshly
   * fetched token), or undefined when we have nothing the registry would accept.
   */
  async afterUnauthorized(ctx: AuthContext, wwwAuthenticate: string | string[] | undefined): Promise<string | undefined> {
    if (ctx.credentials?.kind === 'bearer') return undefined;
    const all = parseChallenges(wwwAuthenticate);
    const ch = all.find((c) => c.scheme === 'bearer' && c.params.realm) ?? all.find((c) => c.scheme === 'basic');
    if (!ch) return undefined;
    this.challenges.set(ctx.origin, ch);
    return this.answer(ch, ctx, true);
  }

  private async answer(ch: Challenge, ctx: AuthContext, fresh: boolean): Promise<string | undefined> {
    const c = ctx.credentials;
    if (ch.scheme === 'basic') {
      if (c?.kind === 'basic') return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
      if (c?.kind === 'identity') return `Basic ${Buffer.from(`${c.username ?? '<token>'}:${c.refreshToken}`).toString('base64')}`;
      return undefined;
    }
    const scope = ctx.scope;
    const key = TokenCache.key({ realm: ch.params.realm, service: ch.params.service, scope, credential: credentialId(c) });
    const cached = fresh ? undefined : this.tokens.get(key);
    if (cached) return `Bearer ${cached}`;
    const scopes = [scope];
    if (ch.params.scope && ch.params.scope !== scope) scopes.push(...ch.params.scope.split(' ').filter((s) => s && s !== scope));
    const realmHost = safeHost(ch.params.realm);
    const t = await fetchToken(this.opts.transport, {
      realm: ch.params.realm,
      service: ch.params.service,
      scopes,
      credentials: c,
      timeoutMs: this.opts.timeoutMs,
      skipTlsVerify: realmHost !== undefined && this.opts.insecure.includes(realmHost),
      signal: ctx.signal,
      forWhat: ctx.forWhat,
    });
    this.tokens.set(key, t.token, t.expiresIn);
    return `Bearer ${t.token}`;
  }
}

function safeHost(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}
