/**
 * `berth completion bash`: a bash completion script generated from the command tree
 * (commands, subcommands, options, option values), completing pod and image names by asking
 * berthd through the hidden `berth __complete pods|images`.
 *
 *   source <(berth completion bash)        # or: berth completion bash > /etc/bash_completion.d/berth
 */
import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { QOS_CLASSES } from '../labels.js';
import { OUTPUT_FORMATS } from '../context.js';
import type { Runner } from '../program.js';

const POD_ARG_COMMANDS = ['logs', 'exec', 'stop', 'rm'];
const IMAGE_ARG_COMMANDS = ['rmi'];

function flagsOf(cmd: Command): { all: string[]; withValue: string[] } {
  const all: string[] = ['-h', '--help'];
  const withValue: string[] = [];
  for (const o of cmd.options) {
    for (const f of [o.short, o.long]) {
      if (!f) continue;
      all.push(f);
      if (o.required || o.optional) withValue.push(f);
    }
  }
  return { all, withValue };
}

const ident = (s: string) => s.replace(/[^A-Za-z0-9]/g, '_');

/** The bash script for `program` (pure). */
export function bashCompletion(program: Command): string {
  const visible = program.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
  const global = flagsOf(program);
  const lines: string[] = [];
  const valueFlags = new Set(global.withValue);
  lines.push(`_berth_commands="${visible.map((c) => c.name()).join(' ')}"`);
  lines.push(`_berth_global_opts="${global.all.join(' ')}"`);
  for (const c of visible) {
    const f = flagsOf(c);
    f.withValue.forEach((v) => valueFlags.add(v));
    lines.push(`_berth_opts_${ident(c.name())}="${f.all.join(' ')}"`);
    if (c.commands.length) {
      lines.push(`_berth_sub_${ident(c.name())}="${c.commands.map((s) => s.name()).join(' ')}"`);
      for (const s of c.commands) {
        const sf = flagsOf(s);
        sf.withValue.forEach((v) => valueFlags.add(v));
        lines.push(`_berth_opts_${ident(c.name())}_${ident(s.name())}="${sf.all.join(' ')}"`);
      }
    }
  }
  return `# bash completion for berth; load it with: source <(berth completion bash)
${lines.join('\n')}
_berth_value_opts=" ${[...valueFlags].join(' ')} "

_berth() {
  local cur prev cmd="" sub="" i w sockopt=""
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if [[ "$w" == "--socket" ]]; then sockopt="--socket \${COMP_WORDS[i+1]}"; fi
    if [[ "$w" == "--" ]]; then return 0; fi
    if [[ "$w" == -* ]]; then
      [[ "$_berth_value_opts" == *" $w "* ]] && ((i++))
      continue
    fi
    if [[ -z "$cmd" ]]; then cmd="$w"
    elif [[ -z "$sub" ]]; then sub="$w"
    fi
  done
  case "$prev" in
    -o|--output) COMPREPLY=($(compgen -W "${OUTPUT_FORMATS.join(' ')}" -- "$cur")); return 0 ;;
    -f|--file|--socket|--admin-socket) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
    --qos-class) COMPREPLY=($(compgen -W "${QOS_CLASSES.join(' ')}" -- "$cur")); return 0 ;;
    --sort) COMPREPLY=($(compgen -W "cpu memory name" -- "$cur")); return 0 ;;
    -c|--container|--runtime-class|--tail|--timeout|--interval|--pod|--class|-n|--namespace) return 0 ;;
  esac
  if [[ -z "$cmd" ]]; then
    if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$_berth_global_opts" -- "$cur"))
    else COMPREPLY=($(compgen -W "$_berth_commands" -- "$cur")); fi
    return 0
  fi
  local key="\${cmd//[^A-Za-z0-9]/_}" subs
  subs="_berth_sub_$key"
  if [[ -n "\${!subs}" && -z "$sub" ]]; then
    COMPREPLY=($(compgen -W "\${!subs}" -- "$cur")); return 0
  fi
  if [[ "$cur" == -* ]]; then
    local opts="_berth_opts_$key"
    [[ -n "$sub" && -n "\${!subs}" ]] && opts="_berth_opts_\${key}_\${sub//[^A-Za-z0-9]/_}"
    COMPREPLY=($(compgen -W "\${!opts} $_berth_global_opts" -- "$cur")); return 0
  fi
  case "$cmd" in
    ${POD_ARG_COMMANDS.join('|')}) [[ "$cmd" == "exec" || "$cmd" == "logs" ]] && [[ -n "$sub" ]] && return 0
      COMPREPLY=($(compgen -W "$(berth $sockopt __complete pods 2>/dev/null)" -- "$cur")) ;;
    ${IMAGE_ARG_COMMANDS.join('|')}) COMPREPLY=($(compgen -W "$(berth $sockopt __complete images 2>/dev/null)" -- "$cur")) ;;
  esac
  return 0
}
complete -F _berth berth
`;
}

export function registerCompletion(program: Command, runner: Runner): void {
  program
    .command('completion')
    .description('print a shell completion script (bash): source <(berth completion bash)')
    .argument('<shell>', 'bash')
    .action((shell: string, _o: unknown, cmd: Command) =>
      runner(cmd, async (ctx) => {
        if (shell !== 'bash') throw usageError(`no completion for ${JSON.stringify(shell)} yet; supported: bash`);
        ctx.io.stdout.write(bashCompletion(program));
      }),
    );
  program
    .command('__complete', { hidden: true })
    .argument('<what>', 'pods | images')
    .action((what: string, _o: unknown, cmd: Command) =>
      runner(cmd, async (ctx) => {
        if (what === 'pods') {
          const pods = (await ctx.runtime.listPodSandbox({ filter: undefined })).items;
          ctx.io.stdout.write(pods.map((p) => `${p.metadata?.name}\n${p.metadata?.namespace}/${p.metadata?.name}\n`).join(''));
        } else if (what === 'images') {
          const images = (await ctx.image.listImages({ filter: undefined })).images;
          ctx.io.stdout.write(images.flatMap((i) => i.repoTags).map((t) => t + '\n').join(''));
        }
      }),
    );
}
