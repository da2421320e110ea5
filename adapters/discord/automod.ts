import { type REST, Routes } from 'discord.js';
import type { AutoModSync } from '../../src/commands/types.ts';

/** The one AutoMod rule Steward manages in a server; found again by this name and updated in place. */
export const AUTOMOD_RULE_NAME = 'Steward: phrase rules';

// Discord's limits for a keyword rule: 1,000 keywords of at most 60 characters each, 100 allow-list entries.
const MAX_KEYWORDS = 1_000;
const MAX_ALLOWED = 100;
const MAX_KEYWORD_LENGTH = 60;
const EVENT_MESSAGE_SEND = 1;
const TRIGGER_KEYWORD = 1;
const ACTION_BLOCK_MESSAGE = 1;
const ACTION_SEND_ALERT = 2;

interface AutoModRule {
  id: string;
  name: string;
}

/**
 * `/steward rules sync` on Discord: the workspace's phrase rules become the keyword list of one Steward-managed
 * AutoMod rule (created the first time, updated in place after), which blocks matching messages before anyone
 * sees them and alerts the moderation channel when one is set; allow phrases become its allow list. Patterns are
 * not mirrored: AutoMod's regex dialect (Rust) differs from ours.
 */
export function discordAutoMod(rest: REST, guildId: string, alertChannelId: string | null): AutoModSync {
  return {
    async sync(phrases, allowed = []) {
      const keywords = fitting(phrases, MAX_KEYWORDS);
      const allowList = fitting(allowed, MAX_ALLOWED);
      const actions: Array<Record<string, unknown>> = [{ type: ACTION_BLOCK_MESSAGE }];
      if (alertChannelId) actions.push({ type: ACTION_SEND_ALERT, metadata: { channel_id: alertChannelId } });
      const body = {
        name: AUTOMOD_RULE_NAME,
        event_type: EVENT_MESSAGE_SEND,
        trigger_metadata: { keyword_filter: keywords, allow_list: allowList },
        actions,
        // An empty keyword list is refused by Discord; the rule stays, switched off.
        enabled: keywords.length > 0,
      };
      const existing = (await rest.get(Routes.guildAutoModerationRules(guildId))) as AutoModRule[];
      const mine = existing.find((rule) => rule.name === AUTOMOD_RULE_NAME);
      if (mine) {
        await rest.patch(Routes.guildAutoModerationRule(guildId, mine.id), {
          body,
          reason: 'Steward: rules sync',
        });
        return `Updated the AutoMod rule “${AUTOMOD_RULE_NAME}”: ${counted(keywords, allowList)}.`;
      }
      await rest.post(Routes.guildAutoModerationRules(guildId), {
        body: { ...body, trigger_type: TRIGGER_KEYWORD },
        reason: 'Steward: rules sync',
      });
      return `Created the AutoMod rule “${AUTOMOD_RULE_NAME}”: ${counted(keywords, allowList)}.`;
    },
  };
}

/** Distinct non-empty phrases within Discord's length limit, at most `max` of them. */
function fitting(phrases: readonly string[], max: number): string[] {
  return [...new Set(phrases.map((p) => p.trim()).filter((p) => p.length > 0))]
    .filter((p) => p.length <= MAX_KEYWORD_LENGTH)
    .slice(0, max);
}

function counted(keywords: string[], allowList: string[]): string {
  return `${keywords.length} phrase(s)${allowList.length > 0 ? `, ${allowList.length} allowed` : ''}`;
}
