#!/usr/bin/env node
/** berthd: the berth CRI daemon. */
import { Command } from 'commander';
import { loadConfig, ConfigError, DEFAULT_CONFIG_PATH } from './config.js';
import { startDaemon } from './daemon.js';
import { logger } from '../util/log.js';
import { BERTH_VERSION } from './version.js';
import { messageOf } from '../util/errors.js';
import { writeDefaultConfigIfEmpty } from '../network/cni/index.js';

const program = new Command('berthd')
  .description('berth: a CRI runtime daemon (runc, Kata, CoCo through shim v2; cgroup QoS; SLIs)')
  .version(BERTH_VERSION)
  .option('--config <file>', `YAML configuration file (default ${DEFAULT_CONFIG_PATH} if present)`)
  .option('--listen <endpoint>', 'CRI socket, e.g. unix:///run/berth/berth.sock')
  .option('--root <dir>', 'persistent state directory (default /var/lib/berth)')
  .option('--state <dir>', 'runtime state directory (default /run/berth)')
  .option('--log-level <level>', 'trace|debug|info|warn|error')
  .option('--print-config', 'print the effective configuration as JSON and exit')
  .option('--init-cni', 'write the default bridge conflist (berth0, 10.88.0.0/16) into cni.confDir if it has none, and exit')
  .showHelpAfterError();

async function main(): Promise<void> {
  program.parse();
  const flags = program.opts<{ config?: string; listen?: string; root?: string; state?: string; logLevel?: string; printConfig?: boolean; initCni?: boolean }>();
  const log = logger('daemon');
  let loaded;
  try {
    loaded = await loadConfig(flags);
  } catch (err) {
    process.stderr.write(`berthd: ${messageOf(err)}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
  if (flags.printConfig) {
    process.stdout.write(JSON.stringify(loaded.config, null, 2) + '\n');
    return;
  }
  if (flags.initCni) {
    const written = await writeDefaultConfigIfEmpty(loaded.config.cni.confDir);
    process.stdout.write(written ? `wrote ${written}\n` : `${loaded.config.cni.confDir} already has a network config; left as is\n`);
    return;
  }
  log.info({ source: loaded.source }, 'configuration loaded');
  const daemon = await startDaemon(loaded.config, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    daemon.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection (kept serving)'));
}

main().catch((err: unknown) => {
  logger('daemon').fatal({ err }, `berthd failed to start: ${messageOf(err)}`);
  process.exit(1);
});
