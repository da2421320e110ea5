import { randomBytes } from 'node:crypto';
import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline';
import type { Consumer, QueueDriver } from '../../queue/types.ts';
import { executeCommand } from '../../src/commands/run.ts';
import type { StatusInfo } from '../../src/commands/types.ts';
import type { Action } from '../../src/domain/action.ts';
import {
  type InboundMessageInput,
  InboundMessageSchema,
  readableText,
  textProblem,
} from '../../src/domain/message.ts';
import { LifecycleError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import type { Store } from '../../src/store/types.ts';
import type { ChatAdapter } from '../types.ts';
import { addressed, formatAction, formatCommandReply } from './format.ts';
import { OrderedOutput } from './ordered-output.ts';

/** Where the terminal chat lives: one workspace, one channel, one member who is also the admin. */
export const LOCAL = Object.freeze({ workspaceId: 'local', channelId: 'general', user: 'you' });

export interface LocalAdapterOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Interactive: prompt and echo nothing; otherwise each input line is echoed before its output (for logs). */
  interactive: boolean;
  queue: QueueDriver;
  store: Store;
  logger: Logger;
  status?: () => Promise<StatusInfo>;
  /** Moderation labels of the loaded models, so `/config threshold` refuses a label that does not exist. */
  labels?: () => readonly string[];
}

/** The terminal chat of local mode: each line is a message in #general, lines starting with / are admin commands. */
export class LocalChatAdapter implements ChatAdapter {
  readonly platform = 'local' as const;
  readonly #o: LocalAdapterOptions;
  /** Hand this to trackingQueue() for the worker's queue, so lines print in input order once their actions are done. */
  readonly ordered: OrderedOutput;
  readonly #run = randomBytes(3).toString('hex');
  #seq = 0;
  #rl: Interface | null = null;
  #consumer: Consumer | null = null;
  #state: 'new' | 'started' | 'stopped' = 'new';
  #stopping: Promise<void> | null = null;
  /** Lines are handled one after another; a command waits for earlier messages so it never reorders them. */
  #chain: Promise<void> = Promise.resolve();
  #ended!: Promise<void>;

  constructor(options: LocalAdapterOptions) {
    this.#o = options;
    this.ordered = new OrderedOutput((lines) => this.#print(lines));
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new LifecycleError(`local adapter cannot start: it is ${this.#state}`);
    this.#state = 'started';
    this.#consumer = await this.#o.queue.consumeOutbound('local', (action) => this.perform(action), {
      concurrency: 8,
    });
    const rl = createInterface({
      input: this.#o.input,
      // Interactive only: readline echoes and draws the prompt on the output; piped runs print results alone.
      ...(this.#o.interactive ? { output: this.#o.output } : {}),
      terminal: this.#o.interactive,
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    this.#rl = rl;
    this.#ended = new Promise((resolve) => rl.once('close', resolve));
    // Ctrl-C in the chat ends it like Ctrl-D: the pending lines finish, then local mode stops cleanly.
    rl.on('SIGINT', () => rl.close());
    rl.on('line', (line) => {
      this.#chain = this.#chain
        .then(() => this.#handle(line))
        .catch((error) => {
          this.#o.logger.error({ err: error }, 'local line failed');
        });
    });
    if (this.#o.interactive) {
      this.#print([
        'Steward local chat — type a message; "steward, …" talks to the bot; /help lists admin commands; Ctrl-D quits.',
      ]);
      rl.setPrompt('> ');
      rl.prompt();
    }
  }

  /** Resolves once the input has ended and every line's output has been printed. */
  async finished(): Promise<void> {
    await this.#ended;
    await this.#chain;
    await this.ordered.idle();
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#state = 'stopped';
      this.#rl?.close();
      await this.#consumer?.close();
    })();
    return this.#stopping;
  }

  async perform(action: Action): Promise<void> {
    // Idempotency as on the real platforms: a retried outbound job prints once.
    if (!(await this.#o.store.claimDelivery(action.key, 30_000))) {
      this.ordered.performed(action.target.messageId, action.key, []); // printed already: stop waiting for it
      return;
    }
    this.ordered.performed(action.target.messageId, action.key, formatAction(action));
    await this.#o.store.confirmDelivery(action.key, 600_000);
  }

  async #handle(raw: string): Promise<void> {
    const line = raw.trim();
    if (line === '') return this.#reprompt();
    if (/^\/(quit|exit)$/i.test(line)) {
      this.#rl?.close();
      return;
    }
    const id = `${this.#run}-${++this.#seq}`;
    const echo = this.#o.interactive ? [] : [`you: ${echoed(line)}`];
    if (line.startsWith('/')) {
      // Settings must not change under messages typed before the command.
      await this.ordered.idle();
      this.ordered.open(id, echo);
      const reply = await executeCommand(line.slice(1), {
        platform: 'local',
        workspaceId: LOCAL.workspaceId,
        actor: { id: LOCAL.user, name: LOCAL.user, isAdmin: true },
        store: this.#o.store,
        jobs: this.#o.queue,
        ...(this.#o.status ? { status: this.#o.status } : {}),
        ...(this.#o.labels ? { labels: this.#o.labels() } : {}),
      });
      this.ordered.finish(id, formatCommandReply(reply));
      return this.#reprompt();
    }
    const { mentionsBot, text } = addressed(line);
    const message: InboundMessageInput = {
      platform: 'local',
      workspaceId: LOCAL.workspaceId,
      channelId: LOCAL.channelId,
      messageId: id,
      author: { id: LOCAL.user, name: LOCAL.user },
      text,
      mentionsBot,
      timestamp: Date.now(),
    };
    this.ordered.open(id, echo);
    // The same refusals as `analyze`: a 50 MB line or binary garbage is no message (and is never echoed whole).
    const problem = textProblem(text);
    if (problem) {
      this.ordered.finish(id, [`  ✗ not sent: ${problem}`]);
      return this.#reprompt();
    }
    const valid = InboundMessageSchema.safeParse(message);
    if (!valid.success) {
      this.ordered.finish(id, [`  ✗ not sent: ${valid.error.issues[0]?.message ?? 'invalid message'}`]);
      return this.#reprompt();
    }
    await this.#o.queue.enqueueInbound(valid.data);
    if (this.#o.interactive) void this.ordered.idle().then(() => this.#reprompt());
  }

  #reprompt(): void {
    if (this.#o.interactive && this.#state === 'started') this.#rl?.prompt(true);
  }

  #print(lines: string[]): void {
    const out = this.#o.output;
    if (this.#o.interactive && this.#rl) {
      // Print above the prompt instead of through it, then redraw what the user was typing.
      clearLine(out, 0);
      cursorTo(out, 0);
      out.write(`${lines.join('\n')}\n`);
      this.#rl.prompt(true);
      return;
    }
    out.write(`${lines.join('\n')}\n`);
  }
}

/** A typed line as echoed in piped runs: printable, and at most 200 characters of it. */
function echoed(line: string): string {
  return readableText(line.length > 200 ? `${line.slice(0, 200)}… (${line.length} characters)` : line);
}
