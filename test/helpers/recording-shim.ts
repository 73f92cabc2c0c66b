#!/usr/bin/env node
/**
 * RECORDING SHIM — A MOCK, NOT A RUNTIME. A small program that behaves like a containerd
 * shim v2 binary so contract tests can see exactly what berthd sends a Kata or CoCo shim
 * without a VM: invoked as `<shim> -namespace … -address … -publish-binary … -id <id> start`
 * it prints a ttrpc socket address and leaves a server process running (as real shims
 * daemonize); that server answers the Task API plausibly (the server's own pid as the task
 * pid, Kill makes the task exit with 128+signal, Shutdown ends it) and records every request,
 * decoded, together with the bundle's config.json at Create, as JSON lines in
 * $RECORDING_SHIM_DIR/records.jsonl. Containers of one pod share one server, found through the
 * io.kubernetes.cri.sandbox-id annotation as real shims do. Nothing is mounted or run.
 *
 * Run from dist/ after transpiling (see recording-shim-harness.ts), never imported.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Options as RuncOptions } from '../../src/gen/containerd/runc/v1/options.js';
import { Metrics as V1Metrics } from '../../src/gen/containerd/cgroups/v1/metrics.js';
import {
  ConnectResponse,
  CreateTaskResponse,
  DeleteResponse,
  PidsResponse,
  StartResponse,
  StateResponse,
  StatsResponse,
  TaskService,
  WaitResponse,
} from '../../src/gen/containerd/task/v2/shim.js';
import { Status } from '../../src/gen/containerd/types/task/task.js';
import { Any } from '../../src/gen/google/protobuf/any.js';
import { Empty } from '../../src/gen/google/protobuf/empty.js';
import { nsToTimestamp, TYPE_URL } from '../../src/runtimes/shim/any.js';
import { TtrpcServer } from '../../src/runtimes/shim/ttrpc/server.js';
import { decodeRuntimeOptions, RUNTIME_OPTIONS_TYPE_URL } from '../../src/runtimes/kata/options.js';
import { notFound } from '../../src/util/errors.js';

const DIR = process.env.RECORDING_SHIM_DIR ?? '';
const SCRIPT = fileURLToPath(import.meta.url);

function replacer(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return { base64: Buffer.from(v).toString('base64') };
  if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
    return { base64: Buffer.from((v as { data: number[] }).data).toString('base64') };
  }
  return v;
}

function record(entry: Record<string, unknown>): void {
  appendFileSync(join(DIR, 'records.jsonl'), `${JSON.stringify({ at: Date.now(), pid: process.pid, ...entry }, replacer)}\n`);
}

/** An options Any, decoded when it is one of the two kinds shims get. */
function decodeOptions(any: Any | undefined): unknown {
  if (!any) return undefined;
  const url = any.typeUrl.replace(/^type\.googleapis\.com\//, '');
  if (url === RUNTIME_OPTIONS_TYPE_URL) {
    const o = decodeRuntimeOptions(any.value);
    return { typeUrl: any.typeUrl, configPath: o.configPath, typeUrlField: o.typeUrl };
  }
  if (url === TYPE_URL.runcOptions) return { typeUrl: any.typeUrl, ...RuncOptions.toJSON(RuncOptions.decode(any.value)) as object };
  return { typeUrl: any.typeUrl, base64: Buffer.from(any.value).toString('base64') };
}

function readSpec(bundle: string): { annotations?: Record<string, string> } & Record<string, unknown> {
  return JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { annotations?: Record<string, string> };
}

function flags(argv: string[]): { flags: Record<string, string>; command: string } {
  const out: Record<string, string> = {};
  let command = '';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-debug') out.debug = 'true';
    else if (a.startsWith('-')) out[a.slice(1)] = argv[++i] ?? '';
    else command = a;
  }
  return { flags: out, command };
}

const canConnect = (path: string) =>
  new Promise<boolean>((resolve) => {
    const c = connect(path);
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });

async function start(f: Record<string, string>): Promise<void> {
  const bundle = process.cwd();
  const stdin = readFileSync(0);
  const spec = readSpec(bundle);
  const a = spec.annotations ?? {};
  const group = a['io.kubernetes.cri.container-type'] === 'container' ? (a['io.kubernetes.cri.sandbox-id'] ?? f.id!) : f.id!;
  const hash = createHash('sha256').update(`${f.address}|${f.namespace}|${group}`).digest('hex').slice(0, 24);
  mkdirSync(join(DIR, 's'), { recursive: true });
  const socket = join(DIR, 's', `${hash}.sock`);
  const reused = await canConnect(socket);
  record({
    kind: 'start',
    argv: process.argv.slice(2),
    flags: f,
    cwd: bundle,
    ttrpcAddress: process.env.TTRPC_ADDRESS ?? '',
    options: stdin.length ? decodeOptions(Any.decode(stdin)) : undefined,
    group,
    reused,
  });
  if (!reused) {
    spawn(process.execPath, [SCRIPT, 'serve', socket, group], { detached: true, stdio: 'ignore', cwd: bundle, env: process.env }).unref();
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(socket))) {
      if (Date.now() > deadline) {
        process.stderr.write(`recording shim: server did not listen on ${socket}\n`);
        process.exit(1);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  process.stdout.write(`unix://${socket}`, () => process.exit(0));
}

function deleteCommand(f: Record<string, string>): void {
  record({ kind: 'delete', argv: process.argv.slice(2), flags: f });
  const res = DeleteResponse.fromPartial({ pid: 0, exitStatus: 137, exitedAt: nsToTimestamp(BigInt(Date.now()) * 1_000_000n) });
  process.stdout.write(Buffer.from(DeleteResponse.encode(res).finish()), () => process.exit(0));
}

interface Proc {
  id: string;
  execId: string;
  bundle: string;
  status: Status;
  exitStatus: number;
  exitedAtNs: bigint;
  stdout: string;
  stderr: string;
  fds: number[];
  waiters: (() => void)[];
}

function serve(socket: string, group: string): void {
  const procs = new Map<string, Proc>();
  const key = (id: string, execId = '') => `${id}/${execId}`;
  const get = (id: string, execId = ''): Proc => {
    const p = procs.get(key(id, execId));
    if (!p) throw notFound(`task ${id}${execId ? ` exec ${execId}` : ''} not found`);
    return p;
  };
  const exit = (p: Proc, status: number) => {
    if (p.status === Status.STOPPED) return;
    p.status = Status.STOPPED;
    p.exitStatus = status;
    p.exitedAtNs = BigInt(Date.now()) * 1_000_000n;
    for (const fd of p.fds.splice(0)) closeSync(fd);
    for (const w of p.waiters.splice(0)) w();
  };
  const openOutput = (p: Proc) => {
    for (const path of [p.stdout, p.stderr]) {
      if (!path || !existsSync(path)) continue;
      try {
        p.fds.push(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        /* no reader: nothing to write to */
      }
    }
    if (p.fds[0] !== undefined) writeSync(p.fds[0], `recording shim (mock): ${p.id} started\n`);
  };
  const newProc = (id: string, execId: string, bundle: string, stdout: string, stderr: string): Proc => ({
    id,
    execId,
    bundle,
    status: Status.CREATED,
    exitStatus: 0,
    exitedAtNs: 0n,
    stdout,
    stderr,
    fds: [],
    waiters: [],
  });
  const rec = (method: string, request: unknown, extra: Record<string, unknown> = {}) => record({ kind: 'rpc', method, group, request, ...extra });
  const server = new TtrpcServer();
  server
    .register(TaskService.connect, (req) => {
      rec('Connect', req);
      return ConnectResponse.fromPartial({ shimPid: process.pid, taskPid: process.pid, version: 'recording-shim (mock)' });
    })
    .register(TaskService.create, (req) => {
      rec('Create', { ...req, options: decodeOptions(req.options) }, { spec: readSpec(req.bundle) });
      procs.set(key(req.id), newProc(req.id, '', req.bundle, req.stdout, req.stderr));
      return CreateTaskResponse.fromPartial({ pid: process.pid });
    })
    .register(TaskService.start, (req) => {
      rec('Start', req);
      const p = get(req.id, req.execId);
      p.status = Status.RUNNING;
      openOutput(p);
      if (req.execId) setImmediate(() => exit(p, 0)); // an exec'd process "runs" and exits at once
      return StartResponse.fromPartial({ pid: process.pid });
    })
    .register(TaskService.exec, (req) => {
      rec('Exec', { ...req, spec: req.spec ? JSON.parse(Buffer.from(req.spec.value).toString('utf8')) : undefined });
      get(req.id);
      procs.set(key(req.id, req.execId), newProc(req.id, req.execId, '', req.stdout, req.stderr));
      return Empty.fromPartial({});
    })
    .register(TaskService.state, (req) => {
      const p = get(req.id, req.execId);
      return StateResponse.fromPartial({
        id: p.id,
        execId: p.execId,
        bundle: p.bundle,
        pid: process.pid,
        status: p.status,
        stdout: p.stdout,
        stderr: p.stderr,
        exitStatus: p.exitStatus,
        exitedAt: p.exitedAtNs ? nsToTimestamp(p.exitedAtNs) : undefined,
      });
    })
    .register(TaskService.wait, async (req) => {
      const p = get(req.id, req.execId);
      if (p.status !== Status.STOPPED) await new Promise<void>((r) => p.waiters.push(r));
      return WaitResponse.fromPartial({ exitStatus: p.exitStatus, exitedAt: nsToTimestamp(p.exitedAtNs) });
    })
    .register(TaskService.kill, (req) => {
      rec('Kill', req);
      const p = get(req.id, req.execId);
      if (p.status === Status.STOPPED) throw notFound('process already finished');
      exit(p, 128 + req.signal);
      if (req.all) for (const q of procs.values()) if (q.id === req.id) exit(q, 128 + req.signal);
      return Empty.fromPartial({});
    })
    .register(TaskService.delete, (req) => {
      rec('Delete', req);
      const p = get(req.id, req.execId);
      procs.delete(key(req.id, req.execId));
      return DeleteResponse.fromPartial({ pid: process.pid, exitStatus: p.exitStatus, exitedAt: nsToTimestamp(p.exitedAtNs) });
    })
    .register(TaskService.pids, (req) => {
      get(req.id);
      return PidsResponse.fromPartial({ processes: [{ pid: process.pid }] });
    })
    .register(TaskService.stats, (req) => {
      rec('Stats', req);
      get(req.id);
      const metrics = V1Metrics.fromPartial({
        cpu: { usage: { total: 1_500_000_000n, user: 1_000_000_000n, kernel: 500_000_000n } },
        memory: { usage: { usage: 64n << 20n, limit: 256n << 20n }, totalInactiveFile: 4n << 20n, totalRss: 50n << 20n },
        pids: { current: 3n, limit: 1024n },
      });
      return StatsResponse.fromPartial({ stats: { typeUrl: TYPE_URL.cgroupsV1Metrics, value: Buffer.from(V1Metrics.encode(metrics).finish()) } });
    })
    .register(TaskService.update, (req) => {
      rec('Update', { ...req, resources: req.resources ? JSON.parse(Buffer.from(req.resources.value).toString('utf8')) : undefined });
      return Empty.fromPartial({});
    })
    .register(TaskService.closeIo, (req) => (rec('CloseIO', req), Empty.fromPartial({})))
    .register(TaskService.resizePty, (req) => (rec('ResizePty', req), Empty.fromPartial({})))
    .register(TaskService.pause, (req) => (rec('Pause', req), Empty.fromPartial({})))
    .register(TaskService.resume, (req) => (rec('Resume', req), Empty.fromPartial({})))
    .register(TaskService.shutdown, (req) => {
      rec('Shutdown', req);
      if (req.now || procs.size === 0) {
        setTimeout(() => void server.close().finally(() => process.exit(0)), 20);
      }
      return Empty.fromPartial({});
    });
  void server.listen(socket).then(() => record({ kind: 'serve', socket, group }));
}

const [cmd, ...rest] = process.argv.slice(2);
if (!DIR) {
  process.stderr.write('recording shim: RECORDING_SHIM_DIR is not set\n');
  process.exit(2);
}
if (cmd === 'serve') serve(rest[0]!, rest[1]!);
else {
  const { flags: f, command } = flags(process.argv.slice(2));
  if (command === 'start') void start(f);
  else if (command === 'delete') deleteCommand(f);
  else {
    process.stderr.write(`recording shim: unknown command ${JSON.stringify(command)}\n`);
    process.exit(2);
  }
}
