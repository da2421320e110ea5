import { afterEach, describe, expect, it } from 'vitest';
import { AUTOMOD_RULE_NAME } from '../../adapters/discord/automod.ts';
import { slash } from '../emulators/discord/events.ts';
import { startMemoryHarness } from '../emulators/discord/harness.ts';

let stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.reverse()) await stop();
  stops = [];
});

describe('Discord adapter: /steward rules sync mirrors phrase rules into AutoMod', () => {
  it('GIVEN phrase rules WHEN an admin syncs twice THEN one Steward rule holds them, updated in place', async () => {
    const harness = await startMemoryHarness();
    stops.push(harness.stop);
    const { emulator, community } = harness;
    const run = async (group: string, sub: string, options: Parameters<typeof slash>[1]['options'] = []) => {
      const interaction = slash(emulator, {
        user: community.users.admin,
        channelId: community.general,
        group,
        sub,
        options,
      });
      await emulator.waitFor(
        `${group} ${sub}`,
        () => interaction.original && interaction.original.pending === false,
      );
      return interaction;
    };
    await run('config', 'moderation-channel', [{ name: 'channel', type: 'channel', value: community.mod }]);
    await run('rules', 'add', [
      { name: 'label', type: 'string', value: 'threat' },
      { name: 'value', type: 'string', value: 'meet me outside' },
    ]);
    await run('rules', 'sync', []);
    const first = emulator.state.autoModRules.get(community.guildId) ?? [];
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({
      name: AUTOMOD_RULE_NAME,
      trigger_type: 1,
      enabled: true,
      actions: [{ type: 1 }, { type: 2, metadata: { channel_id: community.mod } }],
    });
    const keywords = (first[0]!.trigger_metadata as { keyword_filter: string[] }).keyword_filter;
    expect(keywords).toContain('meet me outside');
    expect(keywords).toContain('watch your back'); // the built-in phrase rule

    await run('rules', 'disable', [{ name: 'id', type: 'string', value: 'builtin:threat-watch-your-back' }]);
    await run('rules', 'sync', []);
    const second = emulator.state.autoModRules.get(community.guildId) ?? [];
    expect(second).toHaveLength(1);
    expect(second[0]!.id).toBe(first[0]!.id);
    const after = (second[0]!.trigger_metadata as { keyword_filter: string[] }).keyword_filter;
    expect(after).toContain('meet me outside');
    expect(after).toContain('sleep with one eye open'); // the other built-in phrase rule, still on
    expect(after).not.toContain('watch your back');

    // An allow phrase is no keyword: it goes to the rule's allow list, so AutoMod lets it through too.
    await run('rules', 'add', [
      { name: 'label', type: 'string', value: 'allow' },
      { name: 'value', type: 'string', value: 'Meet me outside the venue' },
    ]);
    await run('rules', 'sync', []);
    const third = emulator.state.autoModRules.get(community.guildId) ?? [];
    const metadata = third[0]!.trigger_metadata as { keyword_filter: string[]; allow_list: string[] };
    expect(metadata.allow_list).toEqual(['meet me outside the venue']);
    expect(metadata.keyword_filter).not.toContain('meet me outside the venue');
    expect(metadata.keyword_filter).toContain('meet me outside');
  });
});
