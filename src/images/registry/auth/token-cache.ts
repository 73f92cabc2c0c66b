/**
 * Bearer tokens cached per (token realm, service, scope, credential) until shortly before
 * they expire. `expires_in` defaults to 60 s (distribution token spec); we stop using a token
 * 10 % of its lifetime (at most 30 s) early so it does not expire in flight.
 */
export class TokenCache {
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 1000,
  ) {}

  static key(parts: { realm: string; service?: string; scope: string; credential: string }): string {
    return [parts.realm, parts.service ?? '', parts.scope, parts.credential].join('\n');
  }

  get(key: string): string | undefined {
    const e = this.tokens.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.tokens.delete(key);
      return undefined;
    }
    return e.token;
  }

  set(key: string, token: string, expiresInSeconds: number | undefined): void {
    const life = expiresInSeconds && expiresInSeconds > 0 ? expiresInSeconds : 60;
    const early = Math.min(30, life / 10);
    if (this.tokens.size >= this.maxEntries) this.prune();
    this.tokens.set(key, { token, expiresAt: this.now() + (life - early) * 1000 });
  }

  get size(): number {
    return this.tokens.size;
  }

  private prune(): void {
    const now = this.now();
    for (const [k, v] of this.tokens) if (v.expiresAt <= now) this.tokens.delete(k);
    while (this.tokens.size >= this.maxEntries) this.tokens.delete(this.tokens.keys().next().value as string);
  }
}
