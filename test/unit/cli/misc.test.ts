import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { exitCodeOfStatus } from '../../../src/cli/exec/ws-exec.js';
import { renderTop, sortPods, type PodFrame } from '../../../src/cli/top/model.js';
import { qosChanges, simulateText, type QosDecisionDoc } from '../../../src/cli/qos-view.js';
import { nonRootProblem } from '../../../src/cli/commands/run-checks.js';
import { describeError, CliError } from '../../../src/cli/errors.js';
import { AdminError } from '../../../src/admin/client.js';
import { buildProgram, main } from '../../../src/cli/program.js';
import { PassThrough } from 'node:stream';
import { bashCompletion } from '../../../src/cli/commands/completion.js';
import { cpuBusyBetween, parseMeminfo, parseProcStat } from '../../../src/cli/node.js';
import { runLogDirectory } from '../../../src/cli/pod-ops.js';
import { PodSandbox } from '../../../src/gen/runtime/v1/api.js';

describe('exec status', () => {
  it('reads the exit code from the metav1.Status', () => {
    expect(exitCodeOfStatus('{"metadata":{},"status":"Success"}')).toBe(0);
    expect(exitCodeOfStatus(JSON.stringify({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '42' }] } }))).toBe(42);
    expect(() => exitCodeOfStatus(JSON.stringify({ status: 'Failure', reason: 'InternalError', message: 'Internal error occurred: boom' }))).toThrow('exec failed: Internal error occurred: boom');
    expect(() => exitCodeOfStatus('')).toThrow(/without an exit status/);
  });
});

describe('top', () => {
  const pod = (name: string, cpu?: number, mem?: number): PodFrame => ({ id: name, name, namespace: 'ns', handler: 'runc', qosClass: 'LS', state: 'Ready', cpuNanoCores: cpu, memoryBytes: mem, containers: 1 });
  const pods = [pod('b', 5e8, 10), pod('a', 1e9, 5), pod('c', undefined, 20)];

  it('sorts by cpu, memory (descending) or name', () => {
    expect(sortPods(pods, 'cpu').map((p) => p.name)).toEqual(['a', 'b', 'c']);
    expect(sortPods(pods, 'memory').map((p) => p.name)).toEqual(['c', 'b', 'a']);
    expect(sortPods(pods, 'name').map((p) => p.name)).toEqual(['a', 'b', 'c']);
  });

  it('renders node lines, a header marking the sort column, one row per pod, and the key help', () => {
    const lines = renderTop({ cpuBusy: 0.5, cpus: 2, memUsedBytes: 2 ** 30, memTotalBytes: 4 * 2 ** 30, psi: { cpu: 1.5 }, beAllowanceCores: 0.5, beUsedCores: 0.1 }, pods, 'memory', 120, 12, new Date(0));
    expect(lines).toHaveLength(12);
    expect(lines[0]).toContain('node CPU 50.0% of 2 CPUs   memory 1GiB / 4GiB (25.0%)');
    expect(lines[1]).toContain('cpu 1.5%');
    expect(lines[1]).toContain('BE allowance 0.50 cores, BE using 0.10');
    expect(lines[3]).toContain('MEMORY▼');
    expect(lines[4]).toMatch(/^ns\/c\s+LS\s+runc\s+Ready\s+-\s+20B/);
    expect(lines[11]).toContain('q quit');
    const small = renderTop({ psi: {}, beNote: 'this berthd has no QoS engine' }, pods, 'cpu', 120, 7, new Date(0));
    expect(small.join('\n')).toContain('… 2 more pods');
    expect(small[1]).toContain('BE allowance n/a (this berthd has no QoS engine)');
  });
});

describe('node facts', () => {
  it('parses meminfo and /proc/stat', () => {
    expect(parseMeminfo('MemTotal:       1000 kB\nMemFree: 1 kB\nMemAvailable:    600 kB\n')).toEqual({ totalBytes: 1_024_000, availableBytes: 614_400 });
    const a = parseProcStat('cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3\ncpu1 1 2 3\nintr 5\n');
    const b = parseProcStat('cpu  200 0 200 800 100 0 0 0 0 0\n');
    expect(a).toEqual({ busy: 200, total: 1000, cpus: 2 });
    expect(cpuBusyBetween(a, b)).toBeCloseTo(2 / 3);
  });
});

describe('qos simulate view', () => {
  const now: QosDecisionDoc = {
    be: { allowanceCores: 1, capacityCores: 2 },
    pods: [{ podId: 'p1', name: 'web', namespace: 'ns', cls: 'LS', targets: [{ id: 'c1', kind: 'container', name: 'app', knobs: { cpuIdle: false, cpuMax: { quota: 'max', period: 100000 } } }] }],
  };
  const sim: QosDecisionDoc = {
    be: { allowanceCores: 0.5, capacityCores: 2, limitedBy: 'threshold' },
    pods: [{ podId: 'p1', name: 'web', namespace: 'ns', cls: 'BE', classSource: 'annotation berth.dev/qos-class', targets: [{ id: 'c1', kind: 'container', name: 'app', knobs: { cpuIdle: true, cpuMax: { quota: 50000, period: 100000 } } }] }],
  };

  it('lists each knob that would change, with the reason', () => {
    expect(qosChanges(now, sim)).toEqual([
      { pod: 'ns/web', target: '(pod)', knob: 'class', now: 'LS', next: 'BE', why: 'class from annotation berth.dev/qos-class' },
      { pod: 'ns/web', target: 'app', knob: 'cpuIdle', now: 'false', next: 'true', why: 'BE class settings (policy be.*: SCHED_IDLE, lowest weights)' },
      { pod: 'ns/web', target: 'app', knob: 'cpuMax', now: 'max', next: '50000/100000µs (0.50 cores)', why: 'BE CPU suppression by CFS quota (allowance 0.5 of 2 cores, limited by threshold)' },
    ]);
    expect(qosChanges(sim, sim)).toEqual([]);
    expect(simulateText(sim, sim)).toContain('no changes');
    expect(simulateText(now, sim)).toMatch(/BE CPU allowance: now 1 cores, with this policy 0\.5 cores\n\nPOD\s+CGROUP\s+KNOB\s+NOW\s+WOULD BE\s+WHY\n/);
  });
});

describe('runAsNonRoot', () => {
  it('refuses root and unverifiable users', () => {
    expect(nonRootProblem('c', 0, 'img', undefined, '')).toContain('runAsUser is 0');
    expect(nonRootProblem('c', 1000, 'img', undefined, '')).toBeUndefined();
    expect(nonRootProblem('c', undefined, 'img', 0n, '')).toContain('runs as root');
    expect(nonRootProblem('c', undefined, 'img', undefined, '')).toContain('runs as root');
    expect(nonRootProblem('c', undefined, 'img', undefined, 'nginx')).toContain('non-numeric user "nginx"');
    expect(nonRootProblem('c', undefined, 'img', 101n, '')).toBeUndefined();
  });
});

describe('errors', () => {
  const s = { socket: '/run/berth/berth.sock', adminSocket: '/run/berth/berth-admin.sock' };
  it('turns socket, gRPC and admin errors into advice', () => {
    expect(describeError({ code: 14, details: 'No connection established. Last error: connect ENOENT /run/berth/berth.sock', message: '' }, s)).toMatch(/cannot reach berthd's CRI socket at \/run\/berth\/berth\.sock \(no such socket\)\. Is berthd running\?/);
    expect(describeError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), s)).toMatch(/admin API at \/run\/berth\/berth-admin\.sock \(connection refused\)/);
    expect(describeError({ code: 5, details: 'pod sandbox "x" not found', message: '' }, s)).toBe('pod sandbox "x" not found (NOT_FOUND)');
    expect(describeError(new AdminError(404, 'NOT_FOUND', 'no such route: GET /v1/qos/policy'), s)).toMatch(/does not serve that admin route/);
    expect(describeError(new CliError('plain'), s)).toBe('plain');
  });

  it('runLogDirectory only names directories berth run made', () => {
    const p = (annotations: Record<string, string>, name = 'web') => PodSandbox.fromPartial({ metadata: { name, namespace: 'ns', uid: 'u-1', attempt: 0 }, annotations });
    expect(runLogDirectory(p({ 'berth.dev/created-by': 'berth-run' }))).toBe('/var/log/pods/ns_web_u-1');
    expect(runLogDirectory(p({}))).toBeUndefined();
    expect(runLogDirectory(p({ 'berth.dev/created-by': 'berth-run' }, '../x'))).toBeUndefined();
  });
});

describe('bash completion', () => {
  const io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
  const script = bashCompletion(buildProgram(io, {}, []));
  const complete = (line: string) => {
    const words = line.split(' ');
    const bash = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _berth; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return execFileSync('bash', ['-c', bash], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  };

  it('is valid bash and completes commands, subcommands, options and values', () => {
    execFileSync('bash', ['-n', '-c', script]);
    expect(complete('berth p')).toEqual(['ps', 'pull']);
    expect(complete('berth qos s')).toEqual(['simulate', 'status']);
    expect(complete('berth run --q')).toEqual(['--qos-class']);
    expect(complete('berth run --qos-class B')).toEqual(['BE']);
    expect(complete('berth -o j')).toEqual(['json']);
    expect(complete('berth top --sort m')).toEqual(['memory']);
    expect(complete('berth --socket /x.sock lo')).toEqual(['logs']);
  });
});

describe('exit codes', () => {
  const io = () => {
    const out = new PassThrough();
    const err = new PassThrough();
    let text = '';
    err.on('data', (b) => (text += b));
    out.resume();
    return { io: { stdout: out, stderr: err, stdin: new PassThrough() } as never, text: () => text };
  };

  it('0 for help and version, 2 for usage mistakes, 1 for failures', async () => {
    expect(await main(['--version'], io().io, {})).toBe(0);
    expect(await main(['--help'], io().io, {})).toBe(0);
    const missing = io();
    expect(await main(['run'], missing.io, {})).toBe(2);
    expect(missing.text()).toContain("required option '-f, --file <path>' not specified");
    expect(await main(['ps', '-o', 'xml'], io().io, {})).toBe(2);
    expect(await main(['nope'], io().io, {})).toBe(2);
    const noFile = io();
    expect(await main(['run', '-f', '/nonexistent/pod.yaml'], noFile.io, {})).toBe(2);
    expect(noFile.text()).toContain('cannot read /nonexistent/pod.yaml');
    const down = io();
    expect(await main(['--socket', '/nonexistent/b.sock', 'ps'], down.io, {})).toBe(1);
    expect(down.text()).toContain("cannot reach berthd's CRI socket at /nonexistent/b.sock");
  });
});
