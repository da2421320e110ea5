import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { executeCommand, runCommand } from '../../src/commands/run.ts';
import type { CommandContext } from '../../src/commands/types.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import type { FlagRecord } from '../../src/store/types.ts';

let store: MemoryStore;
const admin = { id: 'a1', name: 'Ada', isAdmin: true };
const member = { id: 'm1', name: 'Max', isAdmin: false };
const ctx = (over: Partial<CommandContext> = {}): CommandContext => ({
  platform: 'discord',
  workspaceId: 'g1',
  actor: admin,
  store,
  ...over,
});

beforeEach(async () => {
  store = new MemoryStore();
  await store.start();
});
afterEach(() => store.stop());

describe('runCommand', () => {
  it('GIVEN an admin WHEN adding a topic THEN it is stored and the version bumps', async () => {
    const reply = await executeCommand('topics add movies films and cinema', ctx());
    expect(reply).toMatchObject({ ok: true, ephemeral: true });
    const settings = await store.getSettings('discord', 'g1');
    expect(settings.topics).toEqual([{ name: 'movies', description: 'films and cinema' }]);
    expect(settings.version).toBe(1);
  });

  it('GIVEN an existing topic WHEN added again THEN its description is replaced, not duplicated', async () => {
    await executeCommand('topics add movies films', ctx());
    const reply = await executeCommand('topics add movies cinema', ctx());
    expect(reply.text).toContain('Updated');
    expect((await store.getSettings('discord', 'g1')).topics).toEqual([
      { name: 'movies', description: 'cinema' },
    ]);
  });

  it('GIVEN a non-admin WHEN running an admin command THEN refused and nothing changed', async () => {
    for (const text of [
      'topics add x y',
      'config mode auto-hide',
      'config threshold threat 0.1',
      'status',
      'flags',
    ]) {
      const reply = await executeCommand(text, ctx({ actor: member }));
      expect(reply.ok).toBe(false);
      expect(reply.ephemeral).toBe(true);
      expect(reply.text).toContain('Manage Server');
    }
    expect((await store.getSettings('discord', 'g1')).version).toBe(0);
  });

  it('GIVEN a non-admin WHEN listing topics or asking for help THEN allowed, help shows only their commands', async () => {
    expect((await executeCommand('topics list', ctx({ actor: member }))).ok).toBe(true);
    const help = await executeCommand('help', ctx({ actor: member }));
    expect(help.text).toContain('topics list');
    expect(help.text).not.toContain('config mode');
  });

  it('GIVEN known labels WHEN a threshold names another label THEN refused with the labels to choose from', async () => {
    const reply = await executeCommand('config threshold spam 0.5', ctx({ labels: ['offensive', 'threat'] }));
    expect(reply.ok).toBe(false);
    expect(reply.text).toContain('offensive, threat');
    const ok = await executeCommand('config threshold threat 0.5', ctx({ labels: ['offensive', 'threat'] }));
    expect(ok.ok).toBe(true);
    expect((await store.getSettings('discord', 'g1')).thresholds).toEqual({ threat: 0.5 });
    await executeCommand('config threshold threat default', ctx());
    expect((await store.getSettings('discord', 'g1')).thresholds).toEqual({});
  });

  it('GIVEN exempt then unexempt THEN the lists follow, without duplicates', async () => {
    await executeCommand('config exempt <#5>', ctx());
    await executeCommand('config exempt <#5>', ctx());
    await executeCommand('config exempt <@&6>', ctx());
    let settings = await store.getSettings('discord', 'g1');
    expect(settings.exemptChannels).toEqual(['5']);
    expect(settings.exemptRoles).toEqual(['6']);
    await executeCommand('config unexempt <#5>', ctx());
    settings = await store.getSettings('discord', 'g1');
    expect(settings.exemptChannels).toEqual([]);
  });

  it('GIVEN settings commands THEN config show reflects each', async () => {
    await executeCommand('config moderation-channel <#777>', ctx());
    await executeCommand('config mode auto-hide', ctx());
    await executeCommand('config replies topics', ctx());
    await executeCommand('config sentiment-tags strong', ctx());
    const show = await executeCommand('config show', ctx());
    expect(show.text).toContain('moderation-channel: <#777>');
    expect(show.text).toContain('mode: auto-hide');
    expect(show.text).toContain('replies: topics');
    expect(show.text).toContain('sentiment-tags: strong');
    expect(show.fields?.length).toBeGreaterThan(0);
  });

  it('GIVEN removing an unknown topic THEN refused, naming the topics that exist', async () => {
    await executeCommand('topics add movies films', ctx());
    const reply = await executeCommand('topics remove music', ctx());
    expect(reply.ok).toBe(false);
    expect(reply.text).toContain('`movies`');
  });

  it('GIVEN a bad argument THEN executeCommand answers privately with what to type', async () => {
    const reply = await executeCommand('config mode loud', ctx());
    expect(reply).toMatchObject({ ok: false, ephemeral: true });
    expect(reply.text).toContain('config mode suggest|auto-hide');
  });

  it('GIVEN a status provider THEN status renders queues, workers and models', async () => {
    const reply = await runCommand(
      { kind: 'status' },
      ctx({
        status: async () => ({
          queues: [{ name: 'inbound', waiting: 3, active: 1, delayed: 0, failed: 2 }],
          workersAlive: 2,
          models: [
            { role: 'signals', source: 'models/bundled/signals', version: 'v1', dtype: 'q8', device: 'cpu' },
          ],
          lastErrors: [{ at: 0, source: 'worker w1', message: 'boom' }],
        }),
      }),
    );
    expect(reply.text).toContain('inbound: 3 waiting');
    expect(reply.text).toContain('workers alive:\n2');
    expect(reply.text).toContain('signals v1');
    expect(reply.text).toContain('boom');
  });

  it('GIVEN open and dismissed flags THEN flags lists the open ones by default', async () => {
    const flag = (id: string, createdAt: number): FlagRecord => ({
      id,
      platform: 'discord',
      workspaceId: 'g1',
      channelId: 'c',
      messageId: id,
      authorId: 'u',
      authorName: 'Una',
      excerpt: `text ${id}`,
      flagged: ['offensive'],
      scores: { offensive: 0.9 },
      reasons: { offensive: ['idiot'] },
      createdAt,
      status: 'open',
      history: [],
    });
    await store.recordFlag(flag('f1', 1));
    await store.recordFlag(flag('f2', 2));
    await store.updateFlag('f1', { status: 'dismissed', actorId: 'a1', action: 'dismiss' });
    const open = await executeCommand('flags', ctx());
    expect(open.text).toContain('text f2');
    expect(open.text).not.toContain('text f1');
    expect((await executeCommand('flags all', ctx())).text).toContain('text f1');
  });
});
