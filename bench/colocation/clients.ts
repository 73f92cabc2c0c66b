/**
 * The co-location benches' LS workloads and their loopback clients: busybox httpd serving a small
 * CGI (open-loop HTTP load) and a wake-up probe (one byte echoed by a process blocked in read()).
 */
import { request } from 'node:http';
import { Worker } from 'node:worker_threads';
import { eventually } from '../../test/helpers/pod-env.js';

/** A CGI that does a little work (a few hundred shell loop turns) per request; headers end in CRLF. */
export const CGI = ['#!/bin/sh', 'i=0', 'while [ $i -lt 300 ]; do i=$((i+1)); done', "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'"];
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** Write the CGI under `root`/cgi-bin and run busybox httpd there in the foreground (`httpd` is busybox's applet). */
export const serve = (root: string, listen: string, httpd = 'httpd') =>
  `mkdir -p ${root}/cgi-bin && printf '%s\\n' ${CGI.map(shq).join(' ')} > ${root}/cgi-bin/w && chmod +x ${root}/cgi-bin/w && exec ${httpd} -f -p ${listen} -h ${root}`;
export const BUSY = 'while :; do :; done';
/** The wake-up probe: per connection, one process blocked in read(), echoing each byte back. */
export const echo = (port: number, nc = 'nc') => `exec ${nc} -ll -p ${port} -e cat`;

export function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: '127.0.0.1', port, path: '/cgi-bin/w', agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** Open-loop load: one request every 1/rate s for `seconds`; latencies in ms. */
export async function load(port: number, seconds: number, rate: number): Promise<number[]> {
  const lat: number[] = [];
  const pending: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < seconds * rate; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(get(port).then((ms) => void lat.push(ms)));
  }
  await Promise.all(pending);
  return lat;
}

/**
 * The probe's client, in a worker thread so nothing the main thread does (its timers, garbage
 * left by the HTTP window) delays the moment an echo is seen. Per window, one byte every
 * 1/rate s, each timed until its echo returns. Each probe goes out on a connection
 * with no probe outstanding (a pool of CONNS): the echo server cannot turn Nagle off, so an echo
 * written while the previous one on its connection is unacknowledged waits for the client's
 * next segment to carry the ACK. With one connection and an open loop, one probe slower than
 * the period set that off, and every probe after it took a period (5 ms) until it broke up:
 * whole windows at p95 ≈ 5 ms, alone as well as with BE. Plain JavaScript: the worker is not
 * run through the TypeScript loader.
 */
const PROBE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { connect } = require('node:net');
const { readlinkSync } = require('node:fs');
const { port, rate, conns } = workerData;
let lat = [], total = 0, ready = 0, failed = false, queued = 0;
const fail = (msg) => { if (!failed) { failed = true; parentPort.postMessage({ error: msg }); } };
const pool = Array.from({ length: conns }, () => {
  const c = { sock: connect({ host: '127.0.0.1', port, noDelay: true }), sent: [] };
  c.sock.on('connect', () => { if (++ready === conns) parentPort.postMessage({ ready: true, tid: Number(readlinkSync('/proc/thread-self').split('/').pop()) }); });
  c.sock.on('error', (e) => fail(e.message));
  c.sock.on('close', () => fail('probe connection closed'));
  c.sock.on('data', (b) => {
    const now = performance.now();
    for (let k = 0; k < b.length; k++) lat.push(now - c.sent.shift());
    if (total > 0 && lat.length >= total) { parentPort.postMessage({ lat, queued }); total = 0; }
  });
  return c;
});
parentPort.on('message', async ({ seconds }) => {
  lat = []; queued = 0; total = Math.round(seconds * rate);
  const start = performance.now() + 500 / rate;
  const n = total;
  for (let i = 0; i < n; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    let c = pool.find((x) => x.sent.length === 0);
    if (!c) { queued++; c = pool.reduce((a, x) => (x.sent.length < a.sent.length ? x : a)); }
    c.sent.push(performance.now());
    c.sock.write('.');
  }
});
`;
/** Connections in the probe's pool: far more than probes in flight at once (one per period). */
export const PROBE_CONNS = 8;

/** The wake-up probe client: `run(seconds)` gives the round trips of one window, in ms. */
export class Probe {
  /** Probes that found every connection busy and queued behind one (Nagle may hold their echo). */
  queued = 0;

  /** The client thread's kernel task id (it reads /proc/thread-self). */
  tid = 0;

  private constructor(private readonly w: Worker) {}

  /** `rate` probes per second over PROBE_CONNS connections to 127.0.0.1:`port`. */
  static async open(port: number, rate: number): Promise<Probe> {
    const w = new Worker(PROBE_WORKER, { eval: true, workerData: { port, rate, conns: PROBE_CONNS } });
    const p = new Probe(w);
    try {
      p.tid = (await p.next()).tid ?? 0;
    } catch (err) {
      await w.terminate();
      throw err;
    }
    return p;
  }

  private next(): Promise<{ ready?: true; tid?: number; lat?: number[]; queued?: number }> {
    return new Promise((resolve, reject) =>
      this.w.once('message', (m: { error?: string; ready?: true; tid?: number; lat?: number[]; queued?: number }) => (m.error ? reject(new Error(m.error)) : resolve(m))),
    );
  }

  async run(seconds: number): Promise<number[]> {
    const done = this.next();
    this.w.postMessage({ seconds });
    const m = await done;
    if (!m.lat) throw new Error('probe: no latencies');
    this.queued += m.queued ?? 0;
    return m.lat;
  }

  close(): Promise<number> {
    return this.w.terminate();
  }
}

/**
 * Wait until httpd answers on `httpPort` and the echo server on `probePort` (within
 * `timeoutMs`), then warm both up; gives the probe's client, opened at `rate` probes per second.
 */
export async function readyClients(httpPort: number, probePort: number, rate: number, timeoutMs: number): Promise<Probe> {
  await eventually(() => get(httpPort).then(() => true), timeoutMs);
  const probe = await eventually(async () => {
    const p = await Probe.open(probePort, 2 * rate);
    const ok = await p.run(0.1).then(() => true, () => false);
    if (!ok) await p.close();
    return ok ? p : undefined;
  }, timeoutMs);
  await load(httpPort, 2, rate);
  await probe.run(1);
  return probe;
}
