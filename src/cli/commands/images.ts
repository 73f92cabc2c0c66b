/** `berth pull IMAGE` (with progress), `berth images`, `berth rmi IMAGE…`. */
import type { Command } from 'commander';
import type { Image } from '../../gen/runtime/v1/api.js';
import type { CliContext } from '../context.js';
import { failure } from '../errors.js';
import { emit, formatStructured } from '../output/format.js';
import { renderTable } from '../output/table.js';
import { formatBytes, shortId } from '../output/units.js';
import { pullAll } from '../pull.js';
import type { Runner } from '../program.js';

export interface ImageRow {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  pinned: boolean;
}

export function imageRow(i: Image): ImageRow {
  return { id: i.id, repoTags: i.repoTags, repoDigests: i.repoDigests, size: Number(i.size), pinned: i.pinned };
}

/** One line per tag (untagged images show their digest), as crictl images does (pure). */
export function imagesTable(rows: ImageRow[]): string {
  const lines = rows.flatMap((r) => {
    const names = r.repoTags.length ? r.repoTags : r.repoDigests.length ? r.repoDigests.map((d) => d.replace(/@.*/, '@<digest>')) : ['<none>'];
    return names.map((n) => ({ name: n, id: shortId(r.id), size: formatBytes(r.size), pinned: r.pinned ? 'pinned' : '' }));
  });
  if (lines.length === 0) return 'no images (pull one with: berth pull IMAGE)\n';
  return renderTable(lines, [
    { header: 'IMAGE', value: (l) => l.name },
    { header: 'ID', value: (l) => l.id },
    { header: 'SIZE', value: (l) => l.size, right: true },
    { header: '', value: (l) => l.pinned },
  ]);
}

async function pull(ctx: CliContext, images: string[]): Promise<void> {
  const pulled = await pullAll(ctx, images);
  if (ctx.output === 'table') for (const p of pulled) ctx.print(p.id);
  else ctx.io.stdout.write(formatStructured(pulled, ctx.output));
}

async function rmi(ctx: CliContext, refs: string[]): Promise<void> {
  const missing: string[] = [];
  for (const ref of refs) {
    const st = await ctx.image.imageStatus({ image: { image: ref, annotations: {}, userSpecifiedImage: '', runtimeHandler: '', imageRef: '' }, verbose: false });
    if (!st.image) {
      missing.push(ref);
      continue;
    }
    await ctx.image.removeImage({ image: { image: ref, annotations: {}, userSpecifiedImage: '', runtimeHandler: '', imageRef: '' } });
    ctx.print(`removed ${ref}`);
  }
  if (missing.length) throw failure(`no such image: ${missing.join(', ')} (\`berth images\` lists them)`);
}

export function registerImages(program: Command, runner: Runner): void {
  program
    .command('pull')
    .description('pull images, showing per-layer progress')
    .argument('<image...>', 'image references, e.g. busybox:1.36')
    .action((images: string[], _opts: unknown, cmd: Command) => runner(cmd, (ctx) => pull(ctx, images)));
  program
    .command('images')
    .description('list images')
    .action((_opts: unknown, cmd: Command) =>
      runner(cmd, async (ctx) => {
        const rows = (await ctx.image.listImages({ filter: undefined })).images.map(imageRow);
        rows.sort((a, b) => (a.repoTags[0] ?? a.id).localeCompare(b.repoTags[0] ?? b.id));
        emit(ctx, rows, () => imagesTable(rows));
      }),
    );
  program
    .command('rmi')
    .description('remove images (a tag, or the whole image by id)')
    .argument('<image...>', 'image references or ids')
    .action((refs: string[], _opts: unknown, cmd: Command) => runner(cmd, (ctx) => rmi(ctx, refs)));
}
