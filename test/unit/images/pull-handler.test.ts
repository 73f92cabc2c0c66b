/**
 * Which runtime handler a PullImage is for, and so whether it pulls metadata only:
 * ImageSpec.runtime_handler first (unknown → INVALID_ARGUMENT), else what the pod's sandbox
 * config implies (containerd's runtime-handler annotation, the namespace default, the global
 * default), else an ordinary host pull.
 */
import { describe, expect, it } from 'vitest';
import { ImageSpec, PodSandboxConfig } from '../../../src/gen/runtime/v1/api.js';
import { choosePullHandler, RUNTIME_HANDLER_ANNOTATION, type PullHandlerSource } from '../../../src/cri/images.js';
import { runtimePolicySchema } from '../../../src/runtimes/policy/schema.js';
import { BerthError, Code } from '../../../src/util/errors.js';

const modes: Record<string, 'host' | 'guest'> = { runc: 'host', kata: 'host', coco: 'guest' };
const handlers: PullHandlerSource = { names: () => Object.keys(modes), get: (n) => (modes[n] ? { imagePull: modes[n] } : undefined) };
const runtimes = { default: 'runc', policy: runtimePolicySchema.parse({ namespaceDefaults: { confidential: 'coco', 'team-*': 'kata', broken: 'gone' } }) };
const image = (runtimeHandler = '') => ImageSpec.fromPartial({ image: 'reg.test/app:1', runtimeHandler });
const pod = (namespace: string, annotations: Record<string, string> = {}) =>
  PodSandboxConfig.fromPartial({ metadata: { name: 'p', namespace, uid: 'u' }, annotations });

describe('choosePullHandler', () => {
  it('follows image.runtime_handler: a guest-pull handler pulls metadata only, a host one everything', () => {
    expect(choosePullHandler({ image: image('coco') }, handlers, runtimes)).toEqual({ handler: 'coco', source: 'request', guest: true, known: true });
    expect(choosePullHandler({ image: image('kata'), sandboxConfig: pod('confidential') }, handlers, runtimes)).toMatchObject({ handler: 'kata', guest: false });
  });

  it('refuses an unknown image.runtime_handler with INVALID_ARGUMENT listing the configured ones', () => {
    let err: unknown;
    try {
      choosePullHandler({ image: image('gvisor') }, handlers, runtimes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BerthError);
    expect((err as BerthError).code).toBe(Code.INVALID_ARGUMENT);
    expect((err as Error).message).toBe(
      'PullImage: unknown runtime handler "gvisor" in image.runtime_handler; configured handlers: runc, kata, coco (runtimes.handlers in the berth config)',
    );
  });

  it('without a handler or a sandbox config: an ordinary host pull', () => {
    expect(choosePullHandler({ image: image() }, handlers, runtimes)).toEqual({ handler: '', source: 'none', guest: false, known: true });
    expect(choosePullHandler({ image: image() }, undefined, undefined)).toMatchObject({ guest: false, source: 'none' });
  });

  it('with only the sandbox config: its runtime-handler annotation, else the namespace default, else the global default', () => {
    const a = { [RUNTIME_HANDLER_ANNOTATION]: 'coco' };
    expect(choosePullHandler({ image: image(), sandboxConfig: pod('default', a) }, handlers, runtimes)).toEqual({ handler: 'coco', source: 'annotation', guest: true, known: true });
    expect(choosePullHandler({ image: image(), sandboxConfig: pod('confidential') }, handlers, runtimes)).toEqual({ handler: 'coco', source: 'namespace', guest: true, known: true });
    expect(choosePullHandler({ image: image(), sandboxConfig: pod('team-a') }, handlers, runtimes)).toMatchObject({ handler: 'kata', source: 'namespace', guest: false });
    expect(choosePullHandler({ image: image(), sandboxConfig: pod('default') }, handlers, runtimes)).toEqual({ handler: 'runc', source: 'global', guest: false, known: true });
    expect(choosePullHandler({ image: image(), sandboxConfig: pod('confidential') }, handlers, { ...runtimes, default: 'coco' })).toMatchObject({ guest: true });
    expect(choosePullHandler({ image: image(), sandboxConfig: pod('default') }, handlers, { ...runtimes, default: 'coco' })).toMatchObject({ source: 'global', guest: true });
  });

  it('an implied handler that is not configured does not fail the pull: it stays on the host', () => {
    const a = { [RUNTIME_HANDLER_ANNOTATION]: 'nope' };
    expect(choosePullHandler({ image: image(), sandboxConfig: pod('default', a) }, handlers, runtimes)).toEqual({ handler: 'nope', source: 'annotation', guest: false, known: false });
    expect(choosePullHandler({ image: image(), sandboxConfig: pod('broken') }, handlers, runtimes)).toMatchObject({ handler: 'gone', known: false, guest: false });
  });
});
