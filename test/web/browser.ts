import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startLocalHost, type LocalHost } from '../../src/local/host';
import type { Logger } from '../../src/lib/logger';

/*
 * The few browser globals the functions below use inside the page (page.evaluate). This project compiles without
 * the DOM lib, so they are declared here, for this module only; nothing is emitted for them.
 */
interface PageElement {
  tagName: string;
  className: string;
  id: string;
  outerHTML: string;
  textContent: string | null;
  childNodes: Iterable<{ nodeType: number; textContent: string | null }>;
  parentElement: PageElement | null;
  offsetParent: unknown;
  disabled?: boolean;
  labels?: { length: number } | null;
  closest(selector: string): unknown;
  getAttribute(name: string): string | null;
}
interface PageStyle {
  color: string;
  backgroundColor: string;
  fontSize: string;
  fontWeight: string;
}
declare const document: { querySelectorAll(selector: string): Iterable<PageElement> };
declare function getComputedStyle(element: PageElement): PageStyle;

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

/**
 * Every element with its own text whose colour against its effective background is under WCAG AA (4.5:1;
 * 3:1 for large text). Runs in the page.
 */
export function lowContrast(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    type Rgba = [number, number, number, number];
    const parse = (value: string): Rgba => {
      const [r, g, b, a = 1] = (value.match(/[\d.]+/g) ?? ['0', '0', '0', '0']).map(Number);
      return [r, g, b, a];
    };
    const luminance = ([r, g, b]: Rgba) => {
      const channel = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const background = (element: PageElement | null): Rgba => {
      for (let e = element; e; e = e.parentElement) {
        const colour = parse(getComputedStyle(e).backgroundColor);
        if (colour[3] > 0.5) return colour;
      }
      return [255, 255, 255, 1];
    };
    const problems: string[] = [];
    for (const element of document.querySelectorAll('body *')) {
      const ownText = [...element.childNodes].some((node) => node.nodeType === 3 && node.textContent!.trim());
      if (!ownText || !element.offsetParent || element.disabled || element.closest('.skip-link, svg')) continue;
      const style = getComputedStyle(element);
      const [fg, bg] = [luminance(parse(style.color)), luminance(background(element))];
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) problems.push(`${element.tagName.toLowerCase()}.${element.className} "${element.textContent!.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
    }
    return problems;
  });
}

/** Form controls without an accessible name (label, aria-label or text). */
export function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea, button')]
      .filter((control) => !(control.labels?.length || control.getAttribute('aria-label') || control.getAttribute('aria-labelledby') || control.textContent!.trim()))
      .map((c) => c.outerHTML.slice(0, 80)),
  );
}
