import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../src/logger.ts';
import { scrubUrls } from './errors.ts';
import { scrubSecrets } from '../../src/logger.ts';

const FROM_PINO: Record<string, LogLevel> = {
  trace: LogLevel.DEBUG,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
  fatal: LogLevel.ERROR,
};

/**
 * Bolt's and WebClient's logger, bridged into the one injected pino logger. Bolt logs free text (request
 * failures, library warnings), so each line is scrubbed of the tokens and the signing secret first.
 */
export function boltLogger(logger: Logger, secrets: string[]): BoltLogger {
  const log = logger.child({ lib: 'bolt' });
  let level: LogLevel = FROM_PINO[logger.level] ?? LogLevel.ERROR;
  const line = (parts: unknown[]) =>
    scrubUrls(
      scrubSecrets(
        parts
          .map((p) => (p instanceof Error ? p.message : typeof p === 'string' ? p : safeJson(p)))
          .join(' '),
        secrets,
      ),
    );
  return {
    debug: (...parts: unknown[]) => log.debug(line(parts)),
    info: (...parts: unknown[]) => log.info(line(parts)),
    warn: (...parts: unknown[]) => log.warn(line(parts)),
    error: (...parts: unknown[]) => log.error(line(parts)),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
