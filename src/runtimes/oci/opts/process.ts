import { invalidArgument } from '../../../util/errors.js';
import type { ImageConfig } from '../inputs.js';
import { ensureProcess, type SpecOpt } from '../spec-opt.js';

/**
 * The argv of a container, as Kubernetes defines it: `command` replaces the image's
 * ENTRYPOINT and drops its CMD; `args` alone replace CMD and keep ENTRYPOINT; neither keeps
 * both. An image ENTRYPOINT of exactly [""] means "none" (Docker's way to reset it).
 */
export function containerArgs(command: readonly string[], args: readonly string[], image: ImageConfig): string[] {
  if (command.length > 0) return [...command, ...args];
  const entrypoint = image.entrypoint ?? [];
  const ep = entrypoint.length === 1 && entrypoint[0] === '' ? [] : entrypoint;
  const tail = args.length > 0 ? args : (image.cmd ?? []);
  return [...ep, ...tail];
}

export function withContainerArgs(command: readonly string[], args: readonly string[], image: ImageConfig, what: string): SpecOpt {
  return (spec) => {
    const argv = containerArgs(command, args, image);
    if (argv.length === 0) {
      throw invalidArgument(`${what}: no command specified (neither the container config nor the image sets one)`);
    }
    ensureProcess(spec).args = argv;
  };
}

/** The pause process: the image's ENTRYPOINT + CMD, which must not both be empty. */
export function withSandboxArgs(image: ImageConfig, imageName: string): SpecOpt {
  return (spec) => {
    const argv = [...(image.entrypoint ?? []), ...(image.cmd ?? [])];
    if (argv.length === 0) {
      throw invalidArgument(`sandbox image ${JSON.stringify(imageName)} has neither an entrypoint nor a cmd`);
    }
    ensureProcess(spec).args = argv;
  };
}

/**
 * Apply `overrides` (KEY=VALUE) to `base`: a key already present is replaced in place, a
 * new key is appended, and a bare KEY (no "=") removes it.
 */
export function mergeEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const out: (string | undefined)[] = [...base];
  const index = new Map<string, number>();
  out.forEach((e, i) => index.set(envKey(e!), i));
  for (const e of overrides) {
    const key = envKey(e);
    const at = index.get(key);
    if (!e.includes('=')) {
      if (at !== undefined) out[at] = undefined;
      continue;
    }
    if (at !== undefined && out[at] !== undefined) {
      out[at] = e;
    } else {
      index.set(key, out.length);
      out.push(e);
    }
  }
  return out.filter((e): e is string => e !== undefined);
}

function envKey(e: string): string {
  const i = e.indexOf('=');
  return i < 0 ? e : e.slice(0, i);
}

export function withEnv(vars: readonly string[]): SpecOpt {
  return (spec) => {
    if (vars.length === 0) return;
    const proc = ensureProcess(spec);
    proc.env = mergeEnv(proc.env ?? [], vars);
  };
}

export function withCwd(cwd: string): SpecOpt {
  return (spec) => {
    ensureProcess(spec).cwd = cwd;
  };
}

/** A terminal for the process, and TERM=xterm as Docker and containerd set. */
export const withTty: SpecOpt = (spec) => {
  const proc = ensureProcess(spec);
  proc.terminal = true;
  proc.env = [...(proc.env ?? []), 'TERM=xterm'];
};

export function withRoot(path: string, readonly: boolean): SpecOpt {
  return (spec) => {
    spec.root = { path, ...(readonly ? { readonly: true } : {}) };
  };
}

export function withHostname(hostname: string): SpecOpt {
  return (spec) => {
    if (hostname) spec.hostname = hostname;
  };
}
