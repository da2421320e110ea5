import type { webApi } from '@slack/bolt';
import type { AppealDecisionAction } from '../../src/domain/action.ts';
import {
  type AppealDecision,
  appealableActions,
  appealDecisionChange,
  authoriseAppeal,
  authoriseAppealDecision,
  newAppeal,
} from '../../src/domain/moderation-actions.ts';
import { FlagConflictError } from '../../src/errors.ts';
import { recordAppealPosted } from '../flag-log.ts';
import type { Logger } from '../../src/logger.ts';
import type { FlagRecord, Store } from '../../src/store/types.ts';
import type { Block } from './blocks.ts';
import { escapeMrkdwn } from './text.ts';

/**
 * Appeals on Slack: the member's private notice (a DM) with an Appeal button, the modal for their note
 * (views.open), the post in the moderators' channel with Uphold / Reverse, and the member told of the decision.
 * Slack has no member timeout, so nothing is lifted here. The rules are in src/domain/moderation-actions.ts.
 */
export const APPEAL_IDS = Object.freeze({
  appeal: 'steward_appeal',
  note: 'steward_appeal_note',
  uphold: 'steward_appeal_uphold',
  reverse: 'steward_appeal_reverse',
});
const NOTE_BLOCK = 'appeal_note';
const NOTE_INPUT = 'note';

const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const quote = (text: string) =>
  escapeMrkdwn(clip(text, 300))
    .split('\n')
    .map((l) => `>${l}`)
    .join('\n');

export interface SlackAppealDeps {
  web: webApi.WebClient;
  store: Store;
  log: Logger;
  /** The outbound performer's once-per-key delivery. */
  once: (key: string, what: string, post: () => Promise<string>) => Promise<string>;
  /** Whether this user may moderate the workspace (admins or SLACK_ADMIN_USERS). */
  isAdmin: (userId: string) => Promise<boolean>;
}

/** What the member is told was done, with the Appeal button. */
export function noticeBlocks(
  flag: Pick<FlagRecord, 'id' | 'channelId' | 'excerpt'>,
  did: string,
): { text: string; blocks: Block[] } {
  const what =
    did === 'warn'
      ? `A moderator asked me to pass this on: your message in <#${flag.channelId}> goes against the community guidelines. Please keep it friendly.`
      : did === 'auto-hide'
        ? `Steward removed your message in <#${flag.channelId}> automatically: it looked against the community guidelines.`
        : `A moderator removed your message in <#${flag.channelId}>.`;
  const text = `${what}\n${quote(flag.excerpt)}\nIf you think this was a mistake, press *Appeal* and tell the moderators why (once per message).`;
  return {
    text: what,
    blocks: [
      { type: 'section', text: mrkdwn(text) },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Appeal' },
            action_id: APPEAL_IDS.appeal,
            value: flag.id,
          },
        ],
      },
    ],
  };
}

/** The modal the Appeal button opens; the flag id rides in private_metadata. */
export function appealView(flagId: string) {
  return {
    type: 'modal',
    callback_id: APPEAL_IDS.note,
    private_metadata: flagId,
    title: { type: 'plain_text', text: 'Appeal' },
    submit: { type: 'plain_text', text: 'Send' },
    blocks: [
      {
        type: 'input',
        block_id: NOTE_BLOCK,
        label: { type: 'plain_text', text: 'Why was this a mistake?' },
        element: { type: 'plain_text_input', action_id: NOTE_INPUT, multiline: true, max_length: 1000 },
      },
    ],
  };
}

/** The member's note from a view_submission's state. */
export function noteOf(
  values: Record<string, Record<string, { value?: string | null }>> | undefined,
): string {
  return values?.[NOTE_BLOCK]?.[NOTE_INPUT]?.value ?? '';
}

function appealPostBlocks(flag: FlagRecord, decided?: string): Block[] {
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Appeal' } },
    {
      type: 'section',
      fields: [
        mrkdwn(`*Member*\n<@${flag.authorId}>`),
        mrkdwn(`*Channel*\n<#${flag.channelId}>`),
        mrkdwn(`*Appealed*\n${appealableActions(flag).join(', ')}`),
        mrkdwn(`*Flagged for*\n${escapeMrkdwn(flag.flagged.join(', '))}`),
      ],
    },
    { type: 'section', text: mrkdwn(`*Message*\n${quote(flag.excerpt)}`) },
    { type: 'section', text: mrkdwn(`*Their note*\n${quote(flag.appeal?.note ?? '') || '—'}`) },
  ];
  if (decided) blocks.push({ type: 'context', elements: [mrkdwn(decided)] });
  else
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Uphold' },
          action_id: APPEAL_IDS.uphold,
          value: flag.id,
        },
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Reverse' },
          action_id: APPEAL_IDS.reverse,
          value: flag.id,
          style: 'danger',
        },
      ],
    });
  return blocks;
}

const decisionText = (flag: Pick<FlagRecord, 'channelId'>, decision: AppealDecision) =>
  decision === 'reverse'
    ? `The moderators reviewed your appeal about your message in <#${flag.channelId}> and reversed their decision. Sorry for the trouble.`
    : `The moderators reviewed your appeal about your message in <#${flag.channelId}> and upheld their decision.`;

/** Appeals on Slack, driven by the listeners (member and moderator clicks) and the outbound queue (dashboard). */
export class SlackAppeals {
  constructor(private readonly deps: SlackAppealDeps) {}

  /** Tells the member privately what was done, with the Appeal button (once per flag and action). */
  async notice(flagId: string, did: string): Promise<void> {
    const flag = await this.deps.store.getFlag(flagId);
    if (flag?.platform !== 'slack' || flag.appeal) return;
    await this.deps.once(`${flagId}:notice:${did}`, 'telling the member what was done', async () => {
      const res = await this.deps.web.chat.postMessage({
        channel: flag.authorId,
        ...noticeBlocks(flag, did),
      } as never);
      return String(res.ts ?? 'sent');
    });
  }

  /** The member pressed Appeal: open the modal, or say privately why not. */
  async open(input: {
    flagId: string;
    userId: string;
    teamId: string;
    triggerId: string;
    channelId: string;
  }) {
    const verdict = authoriseAppeal(await this.deps.store.getFlag(input.flagId), {
      platform: 'slack',
      userId: input.userId,
      workspaceId: input.teamId,
    });
    if (!verdict.ok) {
      this.deps.log.warn({ flagId: input.flagId, refusal: verdict.refusal }, 'appeal refused');
      await this.deps.web.chat.postEphemeral({
        channel: input.channelId,
        user: input.userId,
        text: verdict.message,
      });
      return;
    }
    await this.deps.web.views.open({ trigger_id: input.triggerId, view: appealView(input.flagId) as never });
  }

  /** The member sent the modal: store the appeal (once). Returns the refusal, or the flag to post() to moderators. */
  async submit(input: {
    flagId: string;
    userId: string;
    userName: string;
    teamId: string;
    note: string;
  }): Promise<{ refusal: string } | { filed: FlagRecord }> {
    const { store, log } = this.deps;
    const flag = await store.getFlag(input.flagId);
    const verdict = authoriseAppeal(flag, {
      platform: 'slack',
      userId: input.userId,
      workspaceId: input.teamId,
    });
    if (!verdict.ok || !flag) return { refusal: verdict.ok ? 'That flag is gone.' : verdict.message };
    let filed: FlagRecord | null;
    try {
      filed = await store.updateFlag(flag.id, {
        status: flag.status,
        actorId: input.userId,
        actorName: input.userName,
        action: 'appeal',
        appeal: newAppeal(input.userId, input.note, Date.now()),
        expectAppeal: 'none',
      });
    } catch (error) {
      if (error instanceof FlagConflictError)
        return { refusal: 'You appealed this already; a moderator will look at it.' };
      throw error;
    }
    if (!filed) return { refusal: 'That flag is gone.' };
    log.info({ flagId: flag.id, memberId: input.userId }, 'appeal filed');
    return { filed };
  }

  /** Posts a filed appeal to the moderators' channel and records where, so a decision can update it. */
  async post(flag: FlagRecord): Promise<void> {
    const channel = (await this.deps.store.getSettings('slack', flag.workspaceId)).moderationChannelId;
    if (!channel) {
      this.deps.log.warn(
        { flagId: flag.id },
        'appeal not posted: no moderation channel set (it is on the dashboard)',
      );
      return;
    }
    const posted = await this.deps.once(`${flag.id}:appeal-post`, 'posting an appeal', async () => {
      const res = await this.deps.web.chat.postMessage({
        channel,
        text: `Appeal from <@${flag.authorId}>`,
        blocks: appealPostBlocks(flag) as never,
      });
      return `${res.channel ?? channel}/${res.ts}`;
    });
    await recordAppealPosted(this.deps.store, flag.id, posted);
  }

  /** A moderator pressed Uphold / Reverse on an appeal post. Returns a private answer for them, or null. */
  async decide(input: {
    flagId: string;
    userId: string;
    userName: string;
    teamId: string;
    decision: AppealDecision;
  }) {
    const flag = await this.deps.store.getFlag(input.flagId);
    const admin = await this.deps.isAdmin(input.userId);
    const verdict = authoriseAppealDecision(flag, input.decision, {
      platform: 'slack',
      workspaceId: input.teamId,
      capabilities: new Set(admin ? (['manage_messages', 'moderate_members'] as const) : []),
    });
    if (!verdict.ok || !flag) return verdict.ok ? 'That flag is gone.' : verdict.message;
    try {
      await this.deps.store.updateFlag(
        flag.id,
        appealDecisionChange(flag, input.decision, { id: input.userId, name: input.userName }, Date.now()),
      );
    } catch (error) {
      if (error instanceof FlagConflictError) return 'Someone was faster: this appeal was decided already.';
      throw error;
    }
    await this.#carryOut(
      flag.id,
      input.decision,
      `<@${input.userId}>`,
      `${flag.id}:appeal-${input.decision}`,
    );
    return null;
  }

  /** A decision from the dashboard, performed by the adapter. */
  async perform(action: AppealDecisionAction): Promise<void> {
    await this.#carryOut(
      action.flagId,
      action.decision,
      `${escapeMrkdwn(action.actorName)} (dashboard)`,
      action.key,
    );
  }

  /** Tells the member, and replaces the post's buttons with who decided what. */
  async #carryOut(flagId: string, decision: AppealDecision, who: string, key: string): Promise<void> {
    const flag = await this.deps.store.getFlag(flagId);
    if (!flag) return;
    await this.deps.once(`${key}:member`, 'telling the member about their appeal', async () => {
      const res = await this.deps.web.chat.postMessage({
        channel: flag.authorId,
        text: decisionText(flag, decision),
      });
      return String(res.ts ?? 'sent');
    });
    const post = /^([^/]+)\/(\d+\.\d+)$/.exec(flag.appeal?.postId ?? '');
    if (!post) return;
    const verb = decision === 'reverse' ? ':leftwards_arrow_with_hook: Reversed' : ':scales: Upheld';
    const line = `${verb} by ${who} · <!date^${Math.floor(Date.now() / 1000)}^{date_short_pretty} {time}|${new Date().toISOString()}>`;
    await this.deps.once(`${key}:post`, 'updating the appeal post', async () => {
      await this.deps.web.chat.update({
        channel: post[1]!,
        ts: post[2]!,
        text: line,
        blocks: appealPostBlocks(flag, line) as never,
      });
      return 'updated';
    });
  }
}
