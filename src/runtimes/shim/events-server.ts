import { EventEmitter, on } from 'node:events';
import { EventsService } from '../../gen/containerd/services/events/ttrpc/v1/events.js';
import { logger, type Logger } from '../../util/log.js';
import { invalidArgument, messageOf } from '../../util/errors.js';
import { decodeEnvelope, type ShimEvent } from './events.js';
import { TtrpcServer } from './ttrpc/server.js';

/**
 * The socket shims publish to: pass its path as TTRPC_ADDRESS when starting a shim. Each
 * Forward call is decoded and emitted as 'event' (a ShimEvent). Shims retry failed publishes a
 * few times with growing delays (about 20 s in all for containerd 1.6 shims), so a short outage
 * of this server (berthd restart) loses nothing if it comes back quickly.
 */
export class EventsServer extends EventEmitter<{ event: [ShimEvent] }> {
  private readonly server: TtrpcServer;
  private readonly log: Logger;

  constructor(log: Logger = logger('shim-events')) {
    super();
    this.log = log;
    this.server = new TtrpcServer(log).register(EventsService.forward, (req) => {
      if (!req.envelope) throw invalidArgument('Forward without an envelope');
      let event: ShimEvent;
      try {
        event = decodeEnvelope(req.envelope);
      } catch (err) {
        throw invalidArgument(`undecodable ${req.envelope.topic} event: ${messageOf(err)}`, err);
      }
      this.log.debug({ topic: event.topic, kind: event.kind, namespace: event.namespace }, 'shim event');
      try {
        this.emit('event', event);
      } catch (err) {
        this.log.error({ err, topic: event.topic }, 'shim event listener threw');
      }
      return {};
    });
  }

  /** Start serving on `path` (a unix socket file; a stale one is replaced). */
  async listen(path: string): Promise<void> {
    await this.server.listen(path);
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  /** Async iteration over events until `signal` aborts. */
  async *events(signal?: AbortSignal): AsyncGenerator<ShimEvent> {
    try {
      for await (const [ev] of on(this, 'event', { signal })) yield ev as ShimEvent;
    } catch (err) {
      if ((err as { name?: string }).name !== 'AbortError') throw err;
    }
  }
}
