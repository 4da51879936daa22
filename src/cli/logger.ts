// The agent's logger: JSON lines (one object per line, for log collectors) unless stdout is a terminal,
// where pino-pretty makes them readable; --log-format overrides the choice. pino-pretty is loaded only
// when chosen, and runs in this thread (a transport would start a worker thread for it).
import { pino, type Logger, type LoggerOptions } from 'pino';
import type { SwimringConfig } from '../config.js';

export type LogFormat = SwimringConfig['logFormat'];

/** What `auto` means: pretty on a terminal, JSON elsewhere. */
export function resolveLogFormat(format: LogFormat, stdoutIsTerminal: boolean): 'json' | 'pretty' {
  if (format === 'auto') return stdoutIsTerminal ? 'pretty' : 'json';
  return format;
}

export async function createLogger(config: Pick<SwimringConfig, 'logLevel' | 'logFormat' | 'name'>, stdoutIsTerminal = process.stdout.isTTY === true): Promise<Logger> {
  const options: LoggerOptions = { level: config.logLevel, base: { self: config.name } };
  if (resolveLogFormat(config.logFormat, stdoutIsTerminal) === 'json') return pino(options);
  const { default: pretty } = await import('pino-pretty');
  // Synchronous writes keep the last lines of a shutdown on the terminal.
  return pino(options, pretty({ sync: true, colorize: stdoutIsTerminal, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,self', messageFormat: '{self}: {msg}' }));
}
