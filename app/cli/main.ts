import { parseArgs } from 'node:util';
import { type Config, loadConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import { runAnalyzeCommand } from './analyze-command.ts';
import { INPUT_FORMATS, isInputFormat } from './analyze-input.ts';
import { runBot, runDashboard, runLocal, runWorker } from './run-modes.ts';
import { USAGE } from './usage.ts';

/** A wrong command line: usage goes to stderr and the exit code is 2, like a bad configuration. */
class UsageError extends Error {}

export interface Io {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

/** Runs one `steward` command line and returns the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  const [command = 'help', ...rest] = argv;
  try {
    switch (command) {
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(USAGE);
        return 0;
      case 'config': {
        const { values } = parse(rest, { print: { type: 'boolean' } });
        if (!values.print) throw new UsageError('steward config takes --print');
        const { redactConfig } = await import('../../src/config.ts');
        io.stdout.write(`${JSON.stringify(redactConfig(loadConfig({ env: io.env })), null, 2)}\n`);
        return 0;
      }
      case 'invite-url': {
        parse(rest, {});
        const config = loadConfig({ env: io.env });
        if (!config.discord.applicationId) {
          throw new ConfigError(
            'DISCORD_APPLICATION_ID (discord.applicationId) is not set: copy it from the Discord developer portal',
          );
        }
        const { discordInviteUrl } = await import('../../adapters/discord/invite.ts');
        io.stdout.write(`${discordInviteUrl(config.discord.applicationId)}\n`);
        return 0;
      }
      case 'local': {
        parse(rest, {});
        const config = loadConfig({ env: io.env });
        return await runLocal(config, quietLogger(config, io), io);
      }
      case 'bot': {
        parse(rest, {});
        const config = loadConfig({ env: io.env });
        return await runBot(config, logger(config, io));
      }
      case 'dashboard': {
        const { values } = parse(rest, { port: { type: 'string' } });
        const port = values.port === undefined ? undefined : Number(values.port);
        if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
          throw new UsageError(`--port takes a port number (got "${values.port}")`);
        }
        const config = loadConfig({ env: io.env });
        return await runDashboard(config, logger(config, io), io.stdout, port);
      }
      case 'worker': {
        const { values } = parse(rest, { device: { type: 'string' }, concurrency: { type: 'string' } });
        const config = loadConfig({
          env: io.env,
          overrides: { 'models.device': values.device, 'worker.concurrency': values.concurrency },
        });
        return await runWorker(config, logger(config, io));
      }
      case 'analyze': {
        const { values, positionals } = parseArgs({
          args: rest,
          options: {
            json: { type: 'boolean' },
            reply: { type: 'boolean' },
            format: { type: 'string', default: 'auto' },
          },
          allowPositionals: true,
          strict: true,
        });
        if (positionals.length > 1) throw new UsageError('steward analyze reads one FILE (or - for stdin)');
        const format = values.format;
        if (!isInputFormat(format))
          throw new UsageError(`--format must be one of ${INPUT_FORMATS.join(', ')} (got "${format}")`);
        const config = loadConfig({ env: io.env });
        return await runAnalyzeCommand(config, quietLogger(config, io), io, {
          json: values.json === true,
          reply: values.reply === true,
          format,
          file: positionals[0] ?? '-',
        });
      }
      case 'library': {
        const [sub, ...args] = rest;
        if (sub !== 'import' && sub !== 'list' && sub !== 'remove')
          throw new UsageError('steward library takes: import FILE | list | remove ID…');
        const { values, positionals } = parseArgs({
          args,
          options: {
            platform: { type: 'string', default: 'local' },
            workspace: { type: 'string', default: 'local' },
            format: { type: 'string', default: 'auto' },
          },
          allowPositionals: true,
          strict: true,
        });
        const format = values.format as string;
        if (format !== 'auto' && format !== 'jsonl' && format !== 'markdown')
          throw new UsageError('--format must be jsonl, markdown or auto');
        const { runLibraryCli } = await import('./library-command.ts');
        return await runLibraryCli(
          loadConfig({ env: io.env }),
          {
            sub,
            platform: values.platform as string,
            workspaceId: values.workspace as string,
            args: positionals,
            format,
          },
          io,
        );
      }
      case 'flags': {
        const [sub, ...args] = rest;
        if (sub !== 'export') throw new UsageError('steward flags takes: export');
        const { values } = parse(args, {
          platform: { type: 'string', default: 'local' },
          workspace: { type: 'string', default: 'local' },
          status: { type: 'string', default: 'all' },
        });
        const status = values.status as string;
        if (status !== 'all' && status !== 'dismissed' && status !== 'actioned') {
          throw new UsageError(`--status must be dismissed, actioned or all (got "${status}")`);
        }
        const { runFlagsExport } = await import('./flags-export.ts');
        return await runFlagsExport(
          loadConfig({ env: io.env }),
          { platform: values.platform as string, workspaceId: values.workspace as string, status },
          io,
        );
      }
      case 'recommend': {
        const { values, positionals } = parseArgs({
          args: rest,
          options: {
            json: { type: 'boolean' },
            each: { type: 'boolean' },
            library: { type: 'string' },
            limit: { type: 'string', default: '3' },
          },
          allowPositionals: true,
          strict: true,
        });
        const limit = Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100)
          throw new UsageError('--limit must be 1..100');
        if (positionals.length > 1) throw new UsageError('steward recommend reads one FILE (or - for stdin)');
        const { runRecommendCommand } = await import('./recommend-command.ts');
        const config = loadConfig({ env: io.env });
        return await runRecommendCommand(config, quietLogger(config, io), io, {
          json: values.json === true,
          each: values.each === true,
          limit,
          file: positionals[0] ?? '-',
          ...(values.library !== undefined ? { library: values.library } : {}),
        });
      }
      case 'privacy': {
        const [sub, ...args] = rest;
        if (sub !== 'export') throw new UsageError('steward privacy takes: export --user U');
        const { values } = parse(args, {
          user: { type: 'string' },
          platform: { type: 'string', default: 'local' },
          workspace: { type: 'string', default: 'local' },
        });
        if (!values.user) throw new UsageError('steward privacy export needs --user U');
        const { runPrivacyExport } = await import('./privacy-export.ts');
        return await runPrivacyExport(
          loadConfig({ env: io.env }),
          {
            platform: values.platform as string,
            workspaceId: values.workspace as string,
            userId: values.user as string,
          },
          io,
        );
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`steward: ${error.message}\n`);
      return 2;
    }
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`steward: ${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}

function parse(args: string[], options: NonNullable<Parameters<typeof parseArgs>[0]>['options']) {
  return parseArgs({ args, options: options ?? {}, allowPositionals: false, strict: true });
}

function logger(config: Config, io: Io): Logger {
  return createLogger({ level: config.logLevel, pretty: io.stderr.isTTY === true });
}

/** Terminal-facing commands keep the screen for their own output: warnings only, unless LOG_LEVEL asks for more. */
function quietLogger(config: Config, io: Io): Logger {
  const level = io.env.LOG_LEVEL ? config.logLevel : 'warn';
  return createLogger({ level, pretty: io.stderr.isTTY === true });
}

// Run when executed (tsx app/cli/main.ts, bin/steward.js), not when imported by tests.
const entry = process.argv[1] ?? '';
if (
  entry.endsWith('/app/cli/main.ts') ||
  entry.endsWith('/bin/steward.js') ||
  entry.endsWith('/bin/steward')
) {
  const io: Io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
      // Whatever a library left open (a socket, a timer) must not keep a finished command alive.
      setTimeout(() => process.exit(code), 3_000).unref();
    },
    (error: unknown) => {
      io.stderr.write(`steward: ${error instanceof Error ? error.message : String(error)}\n`);
      if (io.env.LOG_LEVEL === 'debug' || io.env.LOG_LEVEL === 'trace')
        io.stderr.write(`${(error as Error).stack}\n`);
      process.exit(1);
    },
  );
}
