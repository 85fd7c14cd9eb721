/**
 * The web console in a real browser (issue #12 item 4): sign in with the
 * keyboard, read an upcoming leaver's local time, approve a hold, see a
 * self-approval refused, a form stripped of its CSRF token refused, and an
 * axe-core scan of each page with no serious or critical violation.
 * One Chromium for the file; one browser context (cookie jar) per person.
 */
import { AxeBuilder } from '@axe-core/playwright';
import { DateTime } from 'luxon';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { launchChromium } from '../helpers/browser.ts';
import { hrEvent } from '../helpers/events.ts';
import { client, sendHr, settings } from '../helpers/guard.ts';
import { bearer, eventually, TOKENS, testRuntime } from '../helpers/lastday.ts';

let rt: Runtime;
let browser: Browser;
const zone = 'America/Los_Angeles';
const lastDay = DateTime.utc().plus({ days: 20 }).setZone(zone).toISODate()!;

beforeAll(async () => {
  [rt, browser] = await Promise.all([testRuntime(settings()), launchChromium()]);
  await sendHr(rt, hrEvent({ personId: 'c-1042', lastDay, endTime: '17:00', timezone: zone }));
  await eventually(async () => (await rt.ctx.people.get('c-1042'))?.endsAt);
  for (const [actionId, initiatorId] of [
    ['b-approve', 'someone-else'],
    ['b-self', 'approver-1'],
    ['b-csrf', 'someone-else'],
  ]) {
    const res = await client(rt)(
      'POST',
      '/v1/actions',
      { actionId, initiatorId, kind: 'account.delete', target: 'account:@vip-cfo' },
      bearer(TOKENS.system),
    );
    expect(res.body.state).toBe('held');
  }
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await rt?.stop();
});

async function signedIn(token: string): Promise<Page> {
  const page = await (await browser.newContext({ baseURL: rt.url! })).newPage();
  await page.goto('/console/login');
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/console');
  return page;
}

async function seriousViolations(page: Page) {
  // Legacy mode runs axe inside the page itself; the default opens a second page per scan (seconds each).
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .setLegacyMode(true)
    .analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

describe('the console in Chromium', () => {
  it('signs in with the keyboard alone and shows an upcoming leaver in local time and UTC', async () => {
    const page = await (await browser.newContext({ baseURL: rt.url! })).newPage();
    await page.goto('/console');
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await page.locator('body').focus();
    await page.keyboard.press('Tab'); // the skip link first
    let steps = 0;
    while (
      !(await page.getByLabel('Token').evaluate((el) => el === el.ownerDocument.activeElement)) &&
      steps++ < 5
    ) {
      await page.keyboard.press('Tab');
    }
    expect(await page.getByLabel('Token').evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    await page.keyboard.type(TOKENS.viewer);
    await page.keyboard.press('Tab');
    expect(await page.locator(':focus').textContent()).toBe('Sign in');
    await page.keyboard.press('Enter');
    await page.waitForURL('**/console');

    const endsAt = DateTime.fromISO(`${lastDay}T17:00`, { zone });
    const row = page.getByRole('row', { name: /c-1042/ });
    await expect(row.textContent()).resolves.toContain(endsAt.toFormat('ccc d LLL yyyy, HH:mm ZZZZ'));
    await expect(row.textContent()).resolves.toContain(endsAt.toUTC().toFormat("yyyy-LL-dd HH:mm 'UTC'"));
    // A viewer sees holds but no button to decide them.
    await page.getByRole('link', { name: 'Holds' }).click();
    await expect(page.getByRole('row', { name: /b-approve/ }).count()).resolves.toBe(1);
    await expect(page.getByRole('button', { name: 'Approve' }).count()).resolves.toBe(0);
    await page.context().close();
  });

  it('approves a hold, and shows a self-approval refused in words', async () => {
    const page = await signedIn(TOKENS.approver);
    await page.getByRole('link', { name: 'Holds' }).click();
    await page
      .getByRole('row', { name: /b-approve/ })
      .getByRole('button', { name: 'Approve' })
      .click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('Action b-approve approved.');
    expect((await rt.ctx.redis.hget(`${rt.ctx.prefix}:action:b-approve`, 'state')) ?? '').toBe('approved');

    await page
      .getByRole('row', { name: /b-self/ })
      .getByRole('button', { name: 'Approve' })
      .click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('you started it yourself');
    expect(await rt.ctx.redis.hget(`${rt.ctx.prefix}:action:b-self`, 'state')).toBe('held');
    await page.context().close();
  });

  it('refuses a form whose CSRF token was taken out', async () => {
    const page = await signedIn(TOKENS.approver);
    await page.goto('/console/holds/b-csrf');
    await page
      .locator('input[name="_csrf"]')
      .evaluateAll((inputs) => inputs.forEach((input) => input.remove()));
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('Not allowed');
    await expect(page.getByRole('alert').textContent()).resolves.toContain('CSRF');
    expect(await rt.ctx.redis.hget(`${rt.ctx.prefix}:action:b-csrf`, 'state')).toBe('held');
    await page.context().close();
  });

  it(
    'passes an axe-core scan on every page with no serious or critical violation',
    { timeout: 90_000 },
    async () => {
      const anonymous = await (await browser.newContext({ baseURL: rt.url! })).newPage();
      await anonymous.goto('/console/login');
      expect(await seriousViolations(anonymous)).toEqual([]);
      await anonymous.context().close();

      const page = await signedIn(TOKENS.approver);
      const found: Record<string, string[]> = {};
      for (const path of ['/console', '/console/people/c-1042', '/console/holds']) {
        await page.goto(path);
        const violations = await seriousViolations(page);
        if (violations.length > 0) found[path] = violations;
      }
      expect(found).toEqual({});
      await page.context().close();
    },
  );
});
