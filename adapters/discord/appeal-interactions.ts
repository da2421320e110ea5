import {
  type APIEmbed,
  type ButtonInteraction,
  escapeMarkdown,
  MessageFlags,
  type ModalSubmitInteraction,
  PermissionFlagsBits,
  type REST,
  Routes,
} from 'discord.js';
import type { AppealDecisionAction } from '../../src/domain/action.ts';
import {
  type AppealDecision,
  appealableActions,
  authoriseAppeal,
  appealDecisionChange,
  authoriseAppealDecision,
  type ModCapability,
  newAppeal,
} from '../../src/domain/moderation-actions.ts';
import { FlagConflictError } from '../../src/errors.ts';
import { recordAppealPosted } from '../flag-log.ts';
import type { Logger } from '../../src/logger.ts';
import type { FlagRecord, Store } from '../../src/store/types.ts';
import {
  appealModal,
  appealPost,
  decidedPost,
  decisionText,
  liftTimeout,
  NOTE_INPUT,
  noticeBody,
  parseAppealId,
  postToMember,
  timedOut,
} from './appeals.ts';

export interface AppealDeps {
  rest: REST;
  store: Store;
  log: Logger;
  /** Runs a post once per idempotency key (the outbound performer's delivery claim). */
  once: (key: string, what: string, post: () => Promise<string>) => Promise<string>;
}

const ephemeral = (content: string) => ({ content, flags: MessageFlags.Ephemeral }) as const;

/** The member pressed Appeal (in their DM): open the note modal, if the flag is theirs and not appealed yet. */
export async function handleAppealButton(interaction: ButtonInteraction, deps: AppealDeps): Promise<void> {
  const parsed = parseAppealId(interaction.customId);
  if (!parsed) return;
  if (parsed.control === 'appeal-uphold' || parsed.control === 'appeal-reverse') {
    return decideFromChat(
      interaction,
      deps,
      parsed.flagId,
      parsed.control === 'appeal-reverse' ? 'reverse' : 'uphold',
    );
  }
  if (parsed.control !== 'appeal') return;
  const verdict = authoriseAppeal(await deps.store.getFlag(parsed.flagId), {
    platform: 'discord',
    userId: interaction.user.id,
    ...(interaction.guildId ? { workspaceId: interaction.guildId } : {}),
  });
  if (!verdict.ok) {
    deps.log.warn({ flagId: parsed.flagId, refusal: verdict.refusal }, 'appeal refused');
    await interaction.reply(ephemeral(verdict.message));
    return;
  }
  await interaction.showModal(appealModal(parsed.flagId) as never);
}

/** The member sent the modal: the appeal is stored with the flag (once) and posted to the moderators. */
export async function handleAppealSubmit(
  interaction: ModalSubmitInteraction,
  deps: AppealDeps,
): Promise<void> {
  const parsed = parseAppealId(interaction.customId);
  if (parsed?.control !== 'appeal-note') return;
  const { store, log } = deps;
  const flag = await store.getFlag(parsed.flagId);
  const verdict = authoriseAppeal(flag, {
    platform: 'discord',
    userId: interaction.user.id,
    ...(interaction.guildId ? { workspaceId: interaction.guildId } : {}),
  });
  if (!verdict.ok || !flag) {
    await interaction.reply(ephemeral(verdict.ok ? 'That flag is gone.' : verdict.message));
    return;
  }
  const note = interaction.fields.getTextInputValue(NOTE_INPUT);
  let filed: FlagRecord | null;
  try {
    filed = await store.updateFlag(flag.id, {
      status: flag.status,
      actorId: interaction.user.id,
      actorName: interaction.user.username,
      action: 'appeal',
      appeal: newAppeal(interaction.user.id, note, Date.now()),
      expectAppeal: 'none',
    });
  } catch (error) {
    if (!(error instanceof FlagConflictError)) throw error;
    await interaction.reply(ephemeral('You appealed this already; a moderator will look at it.'));
    return;
  }
  await interaction.reply(ephemeral('Thanks: your appeal is with the moderators. You will hear back here.'));
  log.info({ flagId: flag.id, memberId: interaction.user.id }, 'appeal filed');
  if (filed) await postAppeal(deps, filed);
}

/** Posts the appeal to the workspace's moderation channel and records where, so a decision can update it. */
async function postAppeal(deps: AppealDeps, flag: FlagRecord): Promise<void> {
  const settings = await deps.store.getSettings('discord', flag.workspaceId);
  const channel = settings.moderationChannelId;
  if (!channel) {
    deps.log.warn(
      { flagId: flag.id },
      'appeal not posted: no moderation channel set (it is on the dashboard)',
    );
    return;
  }
  const posted = await deps.once(`${flag.id}:appeal-post`, 'posting an appeal', async () => {
    const sent = (await deps.rest.post(Routes.channelMessages(channel), {
      body: appealPost(flag, appealableActions(flag)),
    })) as { id: string };
    return `${channel}/${sent.id}`;
  });
  await recordAppealPosted(deps.store, flag.id, posted);
}

/** A moderator pressed Uphold / Reverse on an appeal post. */
async function decideFromChat(
  interaction: ButtonInteraction,
  deps: AppealDeps,
  flagId: string,
  decision: AppealDecision,
): Promise<void> {
  if (!interaction.inGuild()) return;
  const flag = await deps.store.getFlag(flagId);
  const capabilities = new Set<ModCapability>();
  if (interaction.memberPermissions.has(PermissionFlagsBits.ManageMessages))
    capabilities.add('manage_messages');
  if (interaction.memberPermissions.has(PermissionFlagsBits.ModerateMembers))
    capabilities.add('moderate_members');
  const verdict = authoriseAppealDecision(flag, decision, {
    platform: 'discord',
    workspaceId: interaction.guildId,
    capabilities,
  });
  if (!verdict.ok || !flag) {
    await interaction.reply(ephemeral(verdict.ok ? 'That flag is gone.' : verdict.message));
    return;
  }
  const lift = decision === 'reverse' && timedOut(flag);
  if (lift && !capabilities.has('moderate_members')) {
    await interaction.reply(
      ephemeral('Reversing lifts a timeout: you need the **Moderate Members** permission.'),
    );
    return;
  }
  await interaction.deferUpdate();
  const actor = interaction.user;
  try {
    await recordDecision(deps.store, flag, decision, { id: actor.id, name: actor.username });
  } catch (error) {
    if (!(error instanceof FlagConflictError)) throw error;
    await interaction.followUp(ephemeral('Someone was faster: this appeal was decided already.'));
    return;
  }
  await carryOut(deps, flag, decision, lift, actor.username, `${flag.id}:appeal-${decision}`);
  const previous = (interaction.message.embeds[0]?.toJSON() ?? {}) as APIEmbed;
  await interaction.editReply(decidedPost(previous, flag.id, decision, `<@${actor.id}>`));
}

/** Records the decision with who and when; the first of two decisions wins (FlagConflictError for the second). */
function recordDecision(
  store: Store,
  flag: FlagRecord,
  decision: AppealDecision,
  by: { id: string; name: string },
): Promise<FlagRecord | null> {
  return store.updateFlag(flag.id, appealDecisionChange(flag, decision, by, Date.now()));
}

/** What a decision does on Discord: lift the timeout when reversed, and tell the member. */
async function carryOut(
  deps: AppealDeps,
  flag: FlagRecord,
  decision: AppealDecision,
  lift: boolean,
  actorName: string,
  key: string,
): Promise<void> {
  if (lift) {
    await deps.once(`${key}:lift`, 'lifting a timeout', async () => {
      await liftTimeout(
        deps.rest,
        flag.workspaceId,
        flag.authorId,
        `Steward: appeal reversed by ${actorName} (${flag.id})`,
      );
      return 'lifted';
    });
  }
  await deps.once(`${key}:member`, 'telling the member about their appeal', () =>
    postToMember(deps.rest, flag.authorId, { content: decisionText(flag, decision, lift) }),
  );
}

/**
 * Tells the flagged member privately what was done (`did`: delete, timeout, auto-hide), with the Appeal button;
 * once per flag and action.
 */
export async function noticeMember(deps: AppealDeps, flagId: string, did: string): Promise<void> {
  const flag = await deps.store.getFlag(flagId);
  if (flag?.platform !== 'discord' || flag.appeal) return;
  await deps.once(`${flagId}:notice:${did}`, 'telling the member what was done', () =>
    postToMember(deps.rest, flag.authorId, noticeBody(flag, did)),
  );
}

/** A decision taken on the dashboard, performed by the adapter: lift, tell the member, update the appeal post. */
export async function performAppealDecision(action: AppealDecisionAction, deps: AppealDeps): Promise<void> {
  const flag = await deps.store.getFlag(action.flagId);
  if (!flag) return;
  await carryOut(deps, flag, action.decision, action.liftTimeout, action.actorName, action.key);
  const post = /^(\d+)\/(\d+)$/.exec(flag.appeal?.postId ?? '');
  if (!post) return;
  const [, channel, message] = post;
  await deps.once(`${action.key}:post`, 'updating the appeal post', async () => {
    const embed = appealPost(flag, appealableActions(flag)).embeds[0]!;
    const who = `${escapeMarkdown(action.actorName)} (dashboard)`;
    await deps.rest.patch(Routes.channelMessage(channel!, message!), {
      body: decidedPost(embed, flag.id, action.decision, who),
    });
    return 'updated';
  });
}
