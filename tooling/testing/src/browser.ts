// Headless Chromium for tests that read web pages, through playwright-core (no browser download:
// the bootstrap installs Debian's chromium).
import { chromium, type Browser } from 'playwright-core';

/** Where Debian's chromium package puts the browser; override with CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Launches headless Chromium with no sandbox (tests run as root) and no background traffic:
 * a page under test may only reach the loopback servers the test itself started.
 */
export function launchHeadlessChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
export type { Browser, Page } from 'playwright-core';
