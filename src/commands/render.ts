import type { WorkspaceSettings } from '../domain/settings.ts';
import type { FlagRecord, FlagStatus } from '../store/types.ts';
import { showTarget } from './mentions.ts';
import type { CommandReply, StatusInfo } from './types.ts';
import type { CommandSpec } from './spec.ts';

/** A private, successful reply: every command answer is shown only to whoever ran it. */
export const ok = (text: string, extra: Partial<Omit<CommandReply, 'ephemeral'>> = {}): CommandReply => ({
  ok: true,
  text,
  ...extra,
  ephemeral: true,
});

export function renderHelp(specs: readonly CommandSpec[], isAdmin: boolean): string {
  const lines = specs
    .filter((spec) => isAdmin || !spec.adminOnly)
    .map((spec) => `\`${spec.usage}\` — ${spec.description}`);
  return lines.join('\n');
}

export function renderTopics(settings: WorkspaceSettings): CommandReply {
  if (settings.topics.length === 0)
    return ok('No topics yet. An admin can type `topics add <name> <description>`.');
  const fields = settings.topics.map((t) => ({ name: t.name, value: t.description }));
  return ok(fields.map((f) => `\`${f.name}\` — ${f.value}`).join('\n'), { title: 'Topics', fields });
}

export function renderSettings(settings: WorkspaceSettings, platform: string): CommandReply {
  const thresholds = Object.entries(settings.thresholds).map(([label, value]) => `${label} ${value}`);
  const exempt = [
    ...settings.exemptChannels.map((id) => showTarget({ type: 'channel', id }, platform)),
    ...settings.exemptRoles.map((id) => showTarget({ type: 'role', id }, platform)),
  ];
  const fields = [
    {
      name: 'moderation-channel',
      value:
        settings.moderationChannelId === null
          ? 'off'
          : showTarget({ type: 'channel', id: settings.moderationChannelId }, platform),
    },
    { name: 'mode', value: settings.moderationMode },
    { name: 'thresholds', value: thresholds.join(', ') || 'model defaults' },
    { name: 'replies', value: settings.replyMode },
    { name: 'sentiment-tags', value: settings.sentimentTags },
    { name: 'exempt', value: exempt.join(', ') || 'none' },
    { name: 'topics', value: settings.topics.map((t) => t.name).join(', ') || 'none' },
  ];
  return ok(fields.map((f) => `${f.name}: ${f.value}`).join('\n'), { title: 'Settings', fields });
}

export function renderStatus(status: StatusInfo): CommandReply {
  const queues = status.queues.map(
    (q) => `${q.name}: ${q.waiting} waiting, ${q.active} active, ${q.delayed} delayed, ${q.failed} failed`,
  );
  const models = status.models.map((m) => `${m.role} ${m.version} (${m.dtype}, ${m.device})`);
  const errors = status.lastErrors
    .slice(0, 5)
    .map((e) => `${new Date(e.at).toISOString()} ${e.source}: ${e.message.slice(0, 200)}`);
  const fields = [
    { name: 'queues', value: queues.join('\n') || 'none' },
    { name: 'workers alive', value: String(status.workersAlive) },
    { name: 'models', value: models.join('\n') || 'not reported yet' },
    { name: 'last errors', value: errors.join('\n') || 'none' },
    {
      name: 'not reviewed (language not supported)',
      value:
        Object.entries(status.skipped ?? {})
          .sort((a, b) => b[1] - a[1])
          .map(([language, n]) => `${language}: ${n}`)
          .join(', ') || 'none',
    },
  ];
  return ok(fields.map((f) => `${f.name}:\n${f.value}`).join('\n'), { title: 'Status', fields });
}

export function renderFlags(flags: FlagRecord[], filter: FlagStatus | 'all'): CommandReply {
  if (flags.length === 0) return ok(filter === 'all' ? 'No flags yet.' : `No ${filter} flags.`);
  const fields = flags.map((f) => ({
    name: `${new Date(f.createdAt).toISOString().slice(0, 16)} ${f.authorName} · ${f.flagged.join(', ')} · ${f.status}`,
    value: f.excerpt.slice(0, 200),
  }));
  return ok(fields.map((f) => `${f.name}\n  ${f.value}`).join('\n'), { title: 'Flags', fields });
}
