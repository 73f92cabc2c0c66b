/**
 * Wiring: builds every component from the config in dependency order, serves CRI, and
 * tears down in reverse. Nothing here decides policy; it only connects modules.
 */
import { mkdir } from 'node:fs/promises';
import type { Config } from './config.js';
import { logger, setLogLevel, type Logger } from '../util/log.js';
import { startCriServer, type CriServer, type ImageHandlers, type RuntimeHandlers } from '../cri/server.js';
import { runtimeInfoHandlers, type Condition, type StatusSource } from '../cri/runtime-info.js';
import { BERTH_VERSION } from './version.js';

export interface RunningDaemon {
  config: Config;
  cri: CriServer;
  stop(): Promise<void>;
}

/** A part of the daemon with a start-up and a shut-down, stopped in reverse order. */
interface Part {
  name: string;
  stop(): Promise<void>;
}

function statusSource(config: Config, extraConditions: () => Promise<Condition[]>): StatusSource {
  return {
    runtimeVersion: BERTH_VERSION,
    async conditions() {
      return extraConditions();
    },
    async verboseInfo() {
      return { config, version: BERTH_VERSION };
    },
    runtimeHandlers: () => [],
    cgroupDriver: () => 'cgroupfs',
  };
}

export async function startDaemon(config: Config, log: Logger = logger('daemon')): Promise<RunningDaemon> {
  setLogLevel(config.logLevel);
  const parts: Part[] = [];
  const stopAll = async () => {
    for (const p of parts.reverse()) {
      try {
        await p.stop();
      } catch (err) {
        log.error({ err, part: p.name }, 'error while stopping');
      }
    }
  };
  try {
    await mkdir(config.root, { recursive: true, mode: 0o711 });
    await mkdir(config.state, { recursive: true, mode: 0o711 });

    const conditions = async (): Promise<Condition[]> => [
      {
        type: 'RuntimeReady',
        status: false,
        reason: 'NoRuntimeHandler',
        message: 'berth cannot run containers yet: no runtime handler is implemented',
      },
      {
        type: 'NetworkReady',
        status: false,
        reason: 'NetworkPluginNotReady',
        message: 'berth: pod networking (CNI) is not implemented yet',
      },
    ];
    const runtime: RuntimeHandlers = { ...runtimeInfoHandlers(statusSource(config, conditions)) };
    const image: ImageHandlers = {};

    const cri = await startCriServer({ listen: config.listen, runtime, image, log: logger('cri') });
    parts.push({ name: 'cri', stop: () => cri.stop() });
    log.info({ version: BERTH_VERSION, root: config.root, state: config.state }, 'berthd started');
    return { config, cri, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
