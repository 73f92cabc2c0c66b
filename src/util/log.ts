import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** The process-wide root logger; the daemon sets its level from config at start. */
export const rootLogger: Logger = pino({
  name: 'berthd',
  level: process.env.BERTH_LOG_LEVEL ?? 'info',
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
  serializers: { err: pino.stdSerializers.err },
});

export function setLogLevel(level: LevelWithSilent): void {
  rootLogger.level = level;
}

/** A child logger for one module, e.g. logger('images'). */
export function logger(module: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger.child({ module, ...bindings });
}
