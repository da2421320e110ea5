import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullMQDriver } from '../../queue/bullmq.ts';
import { INBOUND_QUEUE, outboundQueueName } from '../../queue/types.ts';
import { deletePrefix, inbound, randomPrefix, REDIS_URL, testLogger } from '../queue/fixtures.ts';
import { grantA, startDashboard } from './fixtures.ts';

/** Debian's Chromium, as in browser.test.ts; skipped without one (except under CI). */
const CHROMIUM = process.env.STEWARD_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI)
  throw new Error(`${CHROMIUM} is missing; .ci/run installs Debian's chromium`);

let browser: Browser;
beforeAll(async () => {
  if (haveChromium)
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
      headless: true,
    });
});
afterAll(async () => {
  await browser?.close();
});

describe.skipIf(!haveChromium)('Bull Board in a browser', () => {
  it('renders the Steward queues offline: every request stays on the dashboard, no console errors', async () => {
    const prefix = randomPrefix('board-ui');
    const driver = new BullMQDriver({ url: REDIS_URL, prefix, logger: testLogger() });
    await driver.start();
    const h = await startDashboard({
      bullQueues: () => driver.queues([INBOUND_QUEUE, outboundQueueName('discord')]),
    });
    const page = await browser.newPage();
    try {
      await driver.enqueueInbound(inbound());
      const problems: string[] = [];
      const remote: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      // Offline: anything not served by the dashboard itself is refused and recorded.
      await page.route('**/*', (route) => {
        if (route.request().url().startsWith(h.base)) return route.continue();
        remote.push(route.request().url());
        return route.abort();
      });
      await page.goto(h.server.signInLink({ id: 'operator', name: 'operator' }, [grantA]));
      await page.goto(`${h.base}/admin/queues`);
      await expect
        .poll(() => page.getByText(INBOUND_QUEUE, { exact: true }).count(), { timeout: 15_000 })
        .toBeGreaterThan(0);
      await expect
        .poll(() => page.getByText(outboundQueueName('discord'), { exact: true }).count())
        .toBeGreaterThan(0);
      expect(remote).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
      await h.close();
      await driver.stop();
      await deletePrefix(REDIS_URL, prefix);
    }
  }, 60_000);
});
