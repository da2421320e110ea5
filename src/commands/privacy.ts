import type { Recommendation } from '../domain/profile.ts';
import { UserError } from '../errors.ts';
import { ok } from './render.ts';
import type { CommandSpec } from './spec-types.ts';
import { MAX_RETENTION_DAYS, PRIVACY_SPECS, type PrivacyCommand } from './privacy-spec.ts';
export { PRIVACY_SPECS, type PrivacyCommand };
import type { CommandContext, CommandReply } from './types.ts';

/** True for the commands this module parses and runs. */
export const isPrivacySpec = (spec: CommandSpec): boolean =>
  PRIVACY_SPECS.some((s) => s.group === spec.group && s.sub === spec.sub);

export function buildPrivacyCommand(
  spec: CommandSpec,
  args: Record<string, string | undefined>,
): PrivacyCommand {
  if (spec.sub === 'recommend') return { kind: 'recommend' };
  if (spec.group === 'privacy')
    return { kind: `privacy.${spec.sub}` as PrivacyCommand['kind'] } as PrivacyCommand;
  const raw = args.days?.trim().toLowerCase() ?? '';
  if (['off', 'none', 'never'].includes(raw)) return { kind: 'config.retention', days: null };
  const days = Number(raw);
  if (raw === '' || !Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS) {
    throw new UserError(
      `"${raw}" is not a number of days from 1 to ${MAX_RETENTION_DAYS}.`,
      `Type \`${spec.usage}\`, e.g. \`config retention 30\`.`,
    );
  }
  return { kind: 'config.retention', days };
}

export async function runPrivacyCommand(command: PrivacyCommand, ctx: CommandContext): Promise<CommandReply> {
  const { store, platform, workspaceId } = ctx;
  const me = ctx.actor.id;
  switch (command.kind) {
    case 'recommend':
      return renderRecommendations(ctx);
    case 'privacy.opt-out':
      await store.setOptOut(platform, workspaceId, me, true);
      return ok(
        'You are opted out: Steward deleted your interest profile and will not build one or recommend from it. ' +
          'Moderation still applies to your messages. Type `privacy opt-in` to change your mind.',
      );
    case 'privacy.opt-in':
      await store.setOptOut(platform, workspaceId, me, false);
      return ok(
        'You are opted in: Steward learns your interests from what you write here, for `recommend`. ' +
          'Type `privacy opt-out` to stop, or `privacy forget-me` to delete everything.',
      );
    case 'privacy.forget-me': {
      const had = (await store.getProfile(platform, workspaceId, me)) !== null;
      // Opt out first (it deletes the profile too), so no message being processed right now can write a new
      // profile after the deletion.
      await store.setOptOut(platform, workspaceId, me, true);
      const done = await store.forgetMember(platform, workspaceId, me);
      done.profiles = Math.max(done.profiles, had ? 1 : 0);
      // The queue keeps finished jobs (message text, id, name) for a while; they are scrubbed last, after the
      // store, so a job finishing meanwhile cannot leave a flag or profile behind that the store step missed.
      const jobs = (await ctx.jobs?.forgetMember(platform, workspaceId, me)) ?? 0;
      const queued =
        jobs > 0 ? `, and from ${jobs} processed message${jobs === 1 ? '' : 's'} in its queue` : '';
      return ok(
        `Done. Steward deleted your interest profile and recommendations${done.profiles === 0 ? ' (there were none)' : ''}` +
          ` and removed your name, id and words from ${done.flags} moderation record${done.flags === 1 ? '' : 's'}${queued}. ` +
          'It keeps no other text of yours. You are opted out of profiling now; type `privacy opt-in` to allow it again.',
        { title: 'Forgotten' },
      );
    }
    case 'config.retention': {
      await store.updateSettings(platform, workspaceId, (s) => ({ ...s, retentionDays: command.days }));
      if (command.days === null)
        return ok('No retention limit: profiles and excerpts are kept until a member deletes theirs.');
      const applied = await store.applyRetention(
        platform,
        workspaceId,
        Date.now() - command.days * 86_400_000,
      );
      return ok(
        `Member profiles and flagged-message excerpts older than ${command.days} days are deleted ` +
          `(just now: ${applied.profiles} profile${applied.profiles === 1 ? '' : 's'}, ` +
          `${applied.excerpts} excerpt${applied.excerpts === 1 ? '' : 's'}).`,
      );
    }
  }
}

async function renderRecommendations(ctx: CommandContext): Promise<CommandReply> {
  const { store, platform, workspaceId } = ctx;
  if (await store.isOptedOut(platform, workspaceId, ctx.actor.id)) {
    return ok(
      'You opted out, so Steward keeps no interests of yours. Type `privacy opt-in` to get recommendations.',
    );
  }
  const profile = await store.getProfile(platform, workspaceId, ctx.actor.id);
  const items = profile?.recommendations?.items ?? [];
  if (!profile) {
    return ok(
      'Steward does not know your interests yet: it learns them from what you write here. ' +
        'Chat a little, then try again (`privacy opt-out` stops this).',
    );
  }
  if (items.length === 0) return ok('Nothing to recommend yet: the library is empty or still being indexed.');
  const line = (r: Recommendation) => `*${r.title}*${r.url ? ` ${r.url}` : ''} — ${r.why}`;
  const channels = items.filter((r) => r.kind === 'channel');
  const others = items.filter((r) => r.kind !== 'channel');
  const fields = [
    ...(others.length > 0 ? [{ name: 'For you', value: others.map(line).join('\n') }] : []),
    ...(channels.length > 0 ? [{ name: 'Channels', value: channels.map(line).join('\n') }] : []),
  ];
  return ok(fields.map((f) => `${f.name}:\n${f.value}`).join('\n'), { title: 'Recommended for you', fields });
}
