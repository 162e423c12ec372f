import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startLocalHost, type LocalHost } from '../../src/local/host';
import type { Logger } from '../../src/lib/logger';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Browser tests need Debian's Chromium (`apt-get install chromium`; .ci/run installs it). Without it they are
 * skipped with this reason on a workstation, and fail in CI, where a skipped browser suite would hide a gap.
 */
export const browserSkipReason = !existsSync(CHROMIUM) && !process.env.CI ? `${CHROMIUM} is absent (apt-get install chromium); browser tests skipped` : undefined;

export const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'web');

export const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 900 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
} as const;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
}

/** Collects what the handlers log, so the run stays quiet and a failure can show it. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string, error?: unknown) => lines.push(`${level}: ${message}${error ? ` ${String(error)}` : ''}`);
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
}

export interface WebHost extends LocalHost {
  webUrl: string;
  log: ReturnType<typeof memoryLogger>;
}

/** The local host as `npm start` runs it (embedded Azurite and Cosmos stand-in), on a free port. */
export async function startWebHost(env: Record<string, string> = {}): Promise<WebHost> {
  const log = memoryLogger();
  const host = await startLocalHost({ PORT: '0', BLOB_WATCH_INTERVAL_MS: '50', ...env }, log);
  return Object.assign(host, { log, webUrl: `${host.apiUrl}/web/` });
}

/**
 * A page that fails the test on any uncaught script error or console error (a CSP violation, a 404 asset), so a
 * page that renders but logs errors does not pass unnoticed. `expected` lists console errors a test provokes.
 */
export async function newPage(context: BrowserContext, expected: RegExp[] = []): Promise<Page & { problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !expected.some((pattern) => pattern.test(message.text()))) problems.push(`console: ${message.text()}`);
  });
  return Object.assign(page, { problems });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
