/**
 * Fetch a bearer token from a registry's token server (the realm of a Bearer challenge):
 *  - identity token (OAuth2 refresh token): POST realm, form grant_type=refresh_token; when
 *    the server does not do OAuth2 (404/405), fall back to GET with Basic(username, token);
 *  - username/password: GET realm?service=…&scope=… with Basic;
 *  - no credentials: anonymous GET.
 * Errors name the realm: wrong credentials → UNAUTHENTICATED, 403 → PERMISSION_DENIED,
 * anything else → UNAVAILABLE.
 */
import { permissionDenied, unauthenticated, unavailable } from '../../../util/errors.js';
import { readBody, TransportError, type HttpTransport } from '../http.js';
import type { Credentials } from './credentials.js';

export interface TokenRequest {
  realm: string;
  service?: string;
  scopes: string[];
  credentials?: Credentials;
  timeoutMs: number;
  skipTlsVerify?: boolean;
  signal?: AbortSignal;
  /** Names the registry and repository in errors, e.g. "127.0.0.1:5000 (team/app)". */
  forWhat: string;
}

export interface Token {
  token: string;
  expiresIn?: number;
}

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

export async function fetchToken(transport: HttpTransport, req: TokenRequest): Promise<Token> {
  let realm: URL;
  try {
    realm = new URL(req.realm);
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    throw unavailable(`registry ${req.forWhat} sent an unusable token realm ${JSON.stringify(req.realm)}`);
  }
  const c = req.credentials;
  if (c?.kind === 'identity') {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.refreshToken, client_id: 'berth' });
    if (req.service) form.set('service', req.service);
    if (req.scopes.length) form.set('scope', req.scopes.join(' '));
    const res = await call(transport, realm.toString(), req, 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, form.toString());
    if (res.status !== 404 && res.status !== 405) return parse(res, req);
  }
  const url = new URL(realm);
  if (req.service) url.searchParams.set('service', req.service);
  for (const s of req.scopes) url.searchParams.append('scope', s);
  const headers: Record<string, string> = {};
  if (c?.kind === 'basic') headers.authorization = basic(c.username, c.password);
  if (c?.kind === 'identity') headers.authorization = basic(c.username ?? '<token>', c.refreshToken);
  return parse(await call(transport, url.toString(), req, 'GET', headers), req);
}

async function call(transport: HttpTransport, url: string, req: TokenRequest, method: 'GET' | 'POST', headers: Record<string, string>, body?: string) {
  try {
    const res = await transport.request(url, {
      method,
      headers: { accept: 'application/json', ...headers },
      body,
      timeoutMs: req.timeoutMs,
      skipTlsVerify: req.skipTlsVerify,
      signal: req.signal,
    });
    return { status: res.status, body: await readBody(res, 1 << 20) };
  } catch (err) {
    if (err instanceof TransportError && err.kind === 'aborted') throw err;
    throw unavailable(`cannot get a token for ${req.forWhat} from ${req.realm}: ${(err as Error).message}`, err);
  }
}

function parse(res: { status: number; body: Buffer }, req: TokenRequest): Token {
  const who = req.credentials ? 'the given credentials' : 'anonymous access';
  if (res.status === 401) throw unauthenticated(`registry ${req.forWhat}: token server ${req.realm} rejected ${who} (HTTP 401)`);
  if (res.status === 403) throw permissionDenied(`registry ${req.forWhat}: token server ${req.realm} denied ${who} (HTTP 403)`);
  if (res.status !== 200) throw unavailable(`registry ${req.forWhat}: token server ${req.realm} answered HTTP ${res.status}`);
  let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    doc = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw unavailable(`registry ${req.forWhat}: token server ${req.realm} sent a non-JSON answer`);
  }
  const token = typeof doc.token === 'string' && doc.token ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : '';
  if (!token) throw unavailable(`registry ${req.forWhat}: token server ${req.realm} sent no token`);
  return { token, expiresIn: typeof doc.expires_in === 'number' ? doc.expires_in : undefined };
}
