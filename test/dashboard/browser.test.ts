import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { flag, grantA, type Harness, startDashboard } from './fixtures.ts';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it). No browser is ever downloaded. */
const CHROMIUM = process.env.STEWARD_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI)
  throw new Error(`${CHROMIUM} is missing; .ci/run installs Debian's chromium`);

let browser: Browser;
let h: Harness;
let page: Page;
let problems: string[];

beforeAll(async () => {
  if (haveChromium) browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  h = await startDashboard();
  if (!haveChromium) return;
  page = await browser.newPage();
  problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
});
afterEach(async () => {
  await page?.close();
  await h.close();
});

describe.skipIf(!haveChromium)('dashboard in Chromium', () => {
  it('signs in with the link, shows flags with highlighted words, script text as text, acts, and refuses another workspace', async () => {
    const f = flag({
      excerpt: 'you are an idiot, a moron <script>alert("x")</script><img src=x onerror=alert(1)>',
      authorName: 'mallory<img src=y onerror=alert(3)>',
      attributionWeights: {
        offensive: [
          { word: 'idiot', weight: 1 },
          { word: 'moron', weight: 0.42 },
        ],
        insult: [{ word: 'idiot', weight: 1 }],
      },
    });
    const other = flag({ workspaceId: 'guild-b', excerpt: 'guild b only' });
    await h.store.recordFlag(f);
    await h.store.recordFlag(other);

    await page.goto(h.server.signInLink({ id: 'mod-1', name: 'Mod One' }, [grantA]));
    await expect.poll(() => page.locator('#flag-list > li').count()).toBe(1);
    const item = page.locator('#flag-list > li').first();
    // The driving word is highlighted, the markup shows as characters and created no element.
    await expect.poll(() => item.locator('mark.heat').allTextContents()).toEqual(['idiot', 'moron']);
    // Coloured by the model's stored weight (the rank alone would give moron 0.35).
    expect(await item.locator('mark.heat').last().getAttribute('title')).toBe('weight 0.42');
    expect(await item.locator('.message').textContent()).toBe(f.excerpt);
    expect(await page.locator('#flag-list script, #flag-list img').count()).toBe(0);
    expect(await item.locator('h3').textContent()).toContain(f.authorName);
    expect(await item.locator('table.scores th[scope=row]').allTextContents()).toEqual([
      'offensive (flagged)',
      'insult (flagged)',
      'hate',
    ]);
    // Choosing a label redraws the heat-map for that label only.
    await item.getByLabel(/Highlight words for/).selectOption('hate');
    expect(await item.locator('mark.heat').count()).toBe(0);

    // Keyboard only: Tab reaches the Dismiss button, Enter presses it.
    const dismiss = page.getByRole('button', { name: `Dismiss: flag by ${f.authorName}` });
    type Focusable = { ownerDocument: { activeElement: unknown } };
    const focused = () =>
      dismiss.evaluate((b) => b === (b as unknown as Focusable).ownerDocument.activeElement);
    for (let i = 0; i < 40 && !(await focused()); i++) await page.keyboard.press('Tab');
    expect(await focused()).toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#notice').textContent()).toContain('Dismissed');
    expect((await h.store.getFlag(f.id))?.history.at(-1)).toMatchObject({
      actorId: 'mod-1',
      action: 'dismiss',
    });

    // A request for another workspace from the signed-in page is refused, and nothing of it shows.
    const refused = await page.evaluate(async () => {
      const r = await fetch('/api/flags?platform=discord&workspace=guild-b');
      return { status: r.status, body: await r.text() };
    });
    expect(refused.status).toBe(403);
    expect(refused.body).not.toContain('guild b only');

    // Every control has an accessible name.
    // (A string, evaluated in the page: the test program has no DOM types.)
    const unnamed = await page.evaluate(`[...document.querySelectorAll('input, select, button')]
      .filter((e) => !e.closest('[hidden]'))
      .filter((e) => !(e.labels?.length || e.getAttribute('aria-label') || (e.tagName === 'BUTTON' && e.textContent.trim())))
      .map((e) => e.outerHTML)`);
    expect(unnamed).toEqual([]);
    // The refused fetch logs a 403 in the console; nothing else may.
    expect(problems.filter((p) => !p.includes('403'))).toEqual([]);
  });

  it('lists appeals under the Appeal filter, shows the note as text, and reverses one', async () => {
    const appealed = flag({
      status: 'actioned',
      history: [{ at: 1, actorId: 'mod-2', actorName: 'Mo', action: 'delete' }],
      appeal: {
        memberId: 'u-1',
        note: 'it was a quote <b>really</b>',
        at: Date.parse('2026-11-20T11:00:00Z'),
        status: 'pending',
      },
    });
    await h.store.recordFlag(appealed);
    await h.store.recordFlag(flag({ status: 'actioned' }));
    await page.goto(h.server.signInLink({ id: 'mod-1', name: 'Mod One' }, [grantA]));
    await page.locator('#filters select[name=status]').selectOption('all');
    await page.locator('#filters select[name=appeal]').selectOption('pending');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => page.locator('#flag-list > li').count()).toBe(1);
    const box = page.locator('#flag-list .appeal');
    expect(await box.locator('blockquote').textContent()).toBe('it was a quote <b>really</b>');
    expect(await page.locator('#flag-list b').count()).toBe(0);
    await page.getByRole('button', { name: /Reverse the appeal by/ }).click();
    await expect.poll(() => page.locator('#notice').textContent()).toContain('Appeal reversed');
    const stored = await h.store.getFlag(appealed.id);
    expect(stored?.appeal).toMatchObject({
      status: 'reversed',
      decidedById: 'mod-1',
      decidedByName: 'Mod One',
    });
    // Pending only: the decided appeal left the list.
    await expect.poll(() => page.locator('#flag-list > li').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('draws the trend charts with the bundled uPlot, without console errors', async () => {
    await h.store.recordFlag(flag({ createdAt: Date.now() - 86_400_000 }));
    await h.store.recordFlag(flag({ createdAt: Date.now(), flagged: ['hate'] }));
    await h.store.heartbeat(
      {
        id: 'w1',
        host: 'h',
        pid: 1,
        startedAt: 0,
        at: Date.now(),
        device: 'cpu',
        models: [],
        processed: 3,
        skipped: { fr: 2, de: 1 },
      },
      60_000,
    );
    const where = { platform: 'discord' as const, workspaceId: grantA.workspaceId };
    await h.store.countMessage({ ...where, channelId: 'general', label: 'positive', at: Date.now() }, 90);
    await h.store.countMessage({ ...where, channelId: 'random', label: 'negative', at: Date.now() }, 90);
    await h.store.countMessage({ ...where, channelId: 'general', topic: 'releases', at: Date.now() }, 90);
    await h.store.countMessage(
      { ...where, channelId: 'general', topic: 'events', at: Date.now() - 86_400_000 },
      90,
    );
    await page.goto(h.server.signInLink({ id: 'mod-1', name: 'Mod One' }, [grantA]));
    await expect.poll(() => page.locator('#chart-flags canvas').count()).toBe(1);
    await expect.poll(() => page.locator('#chart-skipped canvas').count()).toBe(1);
    await expect.poll(() => page.locator('#chart-sentiment canvas').count()).toBe(1);
    expect(await page.locator('#chart-flags .u-legend').textContent()).toMatch(/hate.*insult.*offensive/s);
    expect(await page.locator('#chart-sentiment .u-legend').textContent()).toMatch(
      /negative.*neutral.*positive/s,
    );
    await expect.poll(() => page.locator('#chart-topics canvas').count()).toBe(1);
    expect(await page.locator('#chart-topics .u-legend').textContent()).toMatch(
      /events.*releases|releases.*events/s,
    );
    expect(await page.locator('#topics-empty').isHidden()).toBe(true);
    expect(await page.locator('#sentiment-channel option').allTextContents()).toEqual(['general', 'random']);
    await page.selectOption('#sentiment-channel', 'random');
    await expect.poll(() => page.locator('#chart-sentiment canvas').count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it('without a session the page says how to sign in, with no console error', async () => {
    await page.goto(`${h.base}/`);
    await expect.poll(() => page.locator('#signed-out').isVisible()).toBe(true);
    expect(problems.filter((p) => !p.includes('401'))).toEqual([]);
  });

  it('changes a setting from the settings page', async () => {
    await page.goto(h.server.signInLink({ id: 'mod-1', name: 'Mod One' }, [grantA]));
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Moderation mode').selectOption('auto-hide');
    await page.getByRole('button', { name: 'Save mode', exact: true }).click();
    await expect.poll(() => page.locator('#notice').textContent()).toContain('hidden');
    expect((await h.store.getSettings('discord', 'guild-a')).moderationMode).toBe('auto-hide');
    expect(problems).toEqual([]);
  });

  it('applies a suggested threshold from the feedback table and undoes it', async () => {
    for (const score of [0.5, 0.52, 0.58, 0.6, 0.61]) {
      await h.store.recordFlag(
        flag({
          status: 'dismissed',
          flagged: ['insult'],
          scores: { insult: score },
          createdAt: Date.now() - 1000,
          history: [{ at: Date.now(), actorId: 'mod', action: 'dismiss' }],
        }),
      );
    }
    await page.goto(h.server.signInLink({ id: 'mod-1', name: 'Mod One' }, [grantA]));
    const apply = page.getByRole('button', { name: 'Apply suggested threshold 0.62 to insult' });
    await apply.click();
    await expect
      .poll(async () => (await h.store.getSettings('discord', 'guild-a')).thresholds)
      .toEqual({ insult: 0.62 });
    await page.getByRole('button', { name: 'Undo the threshold change of insult' }).click();
    await expect.poll(async () => (await h.store.getSettings('discord', 'guild-a')).thresholds).toEqual({});
    expect(problems).toEqual([]);
  });
});
