import { describe, expect, it } from 'vitest';
import { containerArgs, mergeEnv, withContainerArgs, withCwd, withEnv, withSandboxArgs, withTty } from '../../../src/runtimes/oci/opts/process.js';
import { Code } from '../../../src/util/errors.js';
import { blankSpec, ctxWith, expectBerthError } from './helpers.js';

describe('containerArgs (Kubernetes command/args semantics)', () => {
  const image = { entrypoint: ['/ep', 'x'], cmd: ['c1', 'c2'] };
  const cases: [string, string[], string[], typeof image | { entrypoint?: string[]; cmd?: string[] }, string[]][] = [
    ['neither: entrypoint + cmd', [], [], image, ['/ep', 'x', 'c1', 'c2']],
    ['command replaces entrypoint and drops cmd', ['/bin/sh'], [], image, ['/bin/sh']],
    ['command + args', ['/bin/sh'], ['-c', 'true'], image, ['/bin/sh', '-c', 'true']],
    ['args alone replace cmd, keep entrypoint', [], ['a1'], image, ['/ep', 'x', 'a1']],
    ['image without entrypoint: cmd', [], [], { cmd: ['/c'] }, ['/c']],
    ['image without entrypoint + args', [], ['/a'], { cmd: ['/c'] }, ['/a']],
    ['entrypoint [""] means none', [], [], { entrypoint: [''], cmd: ['/c'] }, ['/c']],
    ['nothing at all', [], [], {}, []],
  ];
  it.each(cases)('%s', (_name, command, args, img, want) => {
    expect(containerArgs(command, args, img)).toEqual(want);
  });

  it('refuses a container with no command at all', async () => {
    await expectBerthError(() => withContainerArgs([], [], {}, 'container "c"')(blankSpec(), ctxWith()), Code.INVALID_ARGUMENT, /no command/);
  });

  it('sandbox args are entrypoint + cmd and must not be empty', async () => {
    const spec = blankSpec();
    await withSandboxArgs({ entrypoint: ['/pause'] }, 'pause:3.9')(spec, ctxWith());
    expect(spec.process!.args).toEqual(['/pause']);
    await expectBerthError(() => withSandboxArgs({}, 'pause:3.9')(blankSpec(), ctxWith()), Code.INVALID_ARGUMENT, /pause:3\.9/);
  });
});

describe('mergeEnv', () => {
  it.each([
    ['appends new keys', ['A=1'], ['B=2'], ['A=1', 'B=2']],
    ['later value replaces in place', ['A=1', 'B=2'], ['A=3'], ['A=3', 'B=2']],
    ['bare key unsets', ['A=1', 'B=2'], ['A'], ['B=2']],
    ['unset then set appends', ['A=1'], ['A', 'A=9'], ['A=9']],
    ['value with = kept whole', [], ['X=a=b'], ['X=a=b']],
    ['empty value is a value', ['A=1'], ['A='], ['A=']],
  ])('%s', (_n, base, over, want) => {
    expect(mergeEnv(base, over)).toEqual(want);
  });

  it('container env wins over the image env and PATH default', async () => {
    const spec = blankSpec();
    const ctx = ctxWith();
    await withEnv(['PATH=/default'])(spec, ctx);
    await withEnv(['PATH=/image', 'LANG=C'])(spec, ctx);
    await withEnv(['LANG=en', 'X=1'])(spec, ctx);
    expect(spec.process!.env).toEqual(['PATH=/image', 'LANG=en', 'X=1']);
  });
});

describe('tty and cwd', () => {
  it('tty sets terminal and TERM', async () => {
    const spec = blankSpec();
    await withTty(spec, ctxWith());
    expect(spec.process!.terminal).toBe(true);
    expect(spec.process!.env).toEqual(['TERM=xterm']);
  });
  it('cwd is written', async () => {
    const spec = blankSpec();
    await withCwd('/work')(spec, ctxWith());
    expect(spec.process!.cwd).toBe('/work');
  });
});
