import { describe, expect, it } from 'vitest';
import { renderReply } from '../../adapters/slack/interactions.ts';
import { executeCommand } from '../../src/commands/run.ts';
import type { CommandContext } from '../../src/commands/types.ts';
import { MemoryStore } from '../../src/store/memory.ts';

async function context(isAdmin = true, extra: Partial<CommandContext> = {}): Promise<CommandContext> {
  const store = new MemoryStore();
  await store.start();
  return {
    platform: 'local',
    workspaceId: 'w1',
    actor: { id: 'u1', name: 'alice', isAdmin },
    store,
    ...extra,
  };
}

describe('/steward rules', () => {
  it('GIVEN an admin WHEN they add a quoted phrase and a pattern THEN both are stored without quotes, listed, and testable', async () => {
    const ctx = await context();
    expect((await executeCommand('rules add threat "meet me outside"', ctx)).ok).toBe(true);
    expect((await executeCommand('rules add insult /\\bclown\\b/', ctx)).ok).toBe(true);
    const settings = await ctx.store.getSettings('local', 'w1');
    expect(settings.rules).toEqual([
      { id: 'r1', label: 'threat', kind: 'phrase', value: 'meet me outside' },
      { id: 'r2', label: 'insult', kind: 'pattern', value: '\\bclown\\b' },
    ]);
    const list = await executeCommand('rules list', ctx);
    expect(list.text).toContain('`r1` threat phrase “meet me outside”');
    expect(list.text).toContain('builtin:self-harm-kys');
    const test = await executeCommand('rules test you absolute cl0wn', ctx);
    expect(test.text).toContain('`r2` → insult');
  });

  it("GIVEN the built-ins' long patterns THEN rules list shows the workspace's own rules first and fits one Discord embed and one Slack reply", async () => {
    const ctx = await context();
    await executeCommand('rules add insult /\\bclown\\b/', ctx);
    const list = await executeCommand('rules list', ctx);
    const lines = list.text.split('\n');
    expect(lines[0]).toBe('`r1` insult pattern `/\\bclown\\b/`');
    expect(list.text).toContain('builtin:threat-zh-done');
    expect(list.text).toContain('builtin:allow-zh-harmless');
    expect(list.text.length).toBeLessThan(4096);
    expect(renderReply(list).length).toBeLessThan(3900);
  });

  it('GIVEN a member who is not an admin THEN rules add is refused and nothing changes', async () => {
    const ctx = await context(false);
    const reply = await executeCommand('rules add threat hello', ctx);
    expect(reply.ok).toBe(false);
    expect((await ctx.store.getSettings('local', 'w1')).rules).toEqual([]);
  });

  it('GIVEN a built-in rule THEN it can be switched off and on, not removed', async () => {
    const ctx = await context();
    expect((await executeCommand('rules remove builtin:self-harm-kys', ctx)).ok).toBe(false);
    expect((await executeCommand('rules disable builtin:self-harm-kys', ctx)).ok).toBe(true);
    expect((await executeCommand('rules test kys', ctx)).text).toContain('No rule matches');
    expect((await executeCommand('rules enable builtin:self-harm-kys', ctx)).ok).toBe(true);
    expect((await executeCommand('rules test kys', ctx)).text).toContain('self_harm');
  });

  it('GIVEN an unsafe or broken pattern, or a bad label THEN a refusal that says why', async () => {
    const ctx = await context();
    expect((await executeCommand('rules add threat /(a+)+b/', ctx)).text).toMatch(/nested repetition/);
    expect((await executeCommand('rules add threat /(oops/', ctx)).text).toMatch(/regular expression/);
    expect((await executeCommand('rules add Bad-Label hello', ctx)).ok).toBe(false);
  });

  it('GIVEN no AutoMod on the platform THEN rules sync says it is Discord only', async () => {
    expect((await executeCommand('rules sync', await context())).text).toMatch(/only available on Discord/);
  });
});
