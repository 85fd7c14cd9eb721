/**
 * Headless Chromium for the console's browser tests: Debian's `chromium`
 * package (/usr/bin/chromium; `.ci/run` installs it when missing) driven by
 * playwright-core, which downloads no browser of its own.
 */
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = process.env.LASTDAY_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set LASTDAY_CHROMIUM)`);
  }
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/**
 * A browser context (its own cookie jar) that reaches loopback addresses only:
 * a page that asks for anything else (a provider's web font) is refused, so a
 * test never talks to the outside world.
 */
export async function loopbackContext(browser: Browser, baseURL: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL });
  await context.route('**/*', (route) => {
    const { hostname } = new URL(route.request().url());
    return ['127.0.0.1', 'localhost', '[::1]'].includes(hostname) ? route.continue() : route.abort();
  });
  return context;
}
