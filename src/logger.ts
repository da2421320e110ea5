import { pino, type Logger } from 'pino';

export type { Logger };

/** Keys whose values never reach a log line. */
export const REDACT_PATHS = [
  'token',
  '*.token',
  '*.*.token',
  'signingSecret',
  '*.signingSecret',
  '*.*.signingSecret',
  'appToken',
  'userToken',
  '*.userToken',
  '*.appToken',
  '*.*.appToken',
  'botToken',
  '*.botToken',
  '*.*.botToken',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'clientSecret',
  '*.clientSecret',
  '*.*.clientSecret',
  'password',
  '*.password',
];

export interface LoggerOptions {
  level?: string;
  /** Human-readable lines for a terminal; JSON otherwise. */
  pretty?: boolean;
  /** Destination stream; stderr by default so stdout stays for command output. */
  destination?: NodeJS.WritableStream;
}

/** The one logger of a process, built at the composition root and passed down. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const base = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (options.pretty) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { destination: 2, colorize: true, ignore: 'pid,hostname' },
      },
    });
  }
  return pino(base, (options.destination as pino.DestinationStream | undefined) ?? pino.destination(2));
}

/** Replaces every occurrence of each secret in a string (for error messages built from library output). */
export function scrubSecrets(text: string, secrets: Array<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 6) out = out.split(secret).join('[redacted]');
  }
  return out;
}
