#!/usr/bin/env node
/** berth: the command-line client of berthd. */
import { setLogLevel } from '../util/log.js';
import { main } from './program.js';

// Library modules the CLI shares with berthd log through pino; the CLI speaks for itself.
setLogLevel('silent');

const flushed = (s: NodeJS.WriteStream) => new Promise<void>((resolve) => (s.writableNeedDrain ? s.once('drain', () => resolve()) : resolve()));

const code = await main(process.argv.slice(2));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
// Exit now: idle keep-alive sockets of the admin client must not hold the CLI open.
process.exit(code);
