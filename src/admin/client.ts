/** A small client for the admin API (used by the `berth` CLI and tests). */
import http from 'node:http';
import { unixPathOf } from '../cri/transport/unix-listener.js';

export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class AdminClient {
  readonly socketPath: string;

  constructor(socket: string) {
    this.socketPath = unixPathOf(socket);
  }

  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        { socketPath: this.socketPath, method, path, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (b: Buffer) => parts.push(b));
          res.on('end', () => {
            const text = Buffer.concat(parts).toString('utf8');
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : {};
            } catch {
              json = { error: text };
            }
            if ((res.statusCode ?? 500) >= 400) {
              const j = json as { error?: string; code?: string };
              reject(new AdminError(res.statusCode ?? 500, j.code ?? 'UNKNOWN', j.error ?? text));
            } else resolve(json as T);
          });
        },
      );
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }
}
