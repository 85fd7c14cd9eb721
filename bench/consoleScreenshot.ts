/**
 * `npx tsx bench/consoleScreenshot.ts`: the console's pictures in docs/img/,
 * taken by Debian's Chromium through playwright-core on a demo lastday (its own
 * redis-server, a dozen leavers, three holds), signed in as an approver.
 */
import { mkdirSync } from 'node:fs';
import { launchChromium, loopbackContext } from '../test/helpers/browser.ts';
import { addLeavers, DEMO_TOKENS, startConsoleDemo } from './lib/consoleDemo.ts';
import { startBenchRedis } from './lib/redis.ts';

const out = new URL('../docs/img/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });

const redis = await startBenchRedis();
const rt = await startConsoleDemo(redis.url, 'console-shot');
const browser = await launchChromium();
try {
  await addLeavers(rt, 14, 30);
  const guard = rt.ctx.guard;
  const system = { name: 'tools' };
  for (const [actionId, initiatorId, kind, target] of [
    ['gh-del-4411', 'c-1042', 'repo.delete', 'repo:payments-api'],
    ['okta-deact-17', 'c-1044', 'account.deactivate', 'account:@vip-cfo'],
    ['s3-purge-92', 'alice', 'bucket.purge', 'account:@vip-backups'],
  ]) {
    await guard.register({ actionId, initiatorId, kind, target }, system);
  }
  const page = await (await loopbackContext(browser, rt.url!)).newPage();
  await page.setViewportSize({ width: 1280, height: 860 });
  await page.goto('/console/login');
  await page.getByLabel('Token').fill(DEMO_TOKENS.approver);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/console');
  await page.screenshot({ path: `${out}console-upcoming.png` });
  await page.goto('/console/people/c-1042');
  await page.screenshot({ path: `${out}console-person.png`, fullPage: false });
  await page.goto('/console/holds');
  await page
    .getByRole('row', { name: /s3-purge-92/ })
    .getByRole('button', { name: 'Approve' })
    .click();
  await page.screenshot({ path: `${out}console-holds.png` });
  console.log(`wrote ${out}console-{upcoming,person,holds}.png`);
} finally {
  await browser.close();
  await rt.stop();
  await redis.stop();
}
