import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { sampleImage } from '../support/images';
import { browserSkipReason, launchChromium, lowContrast, newPage, screenshot, startWebHost, unnamedControls, VIEWPORTS, type WebHost } from './browser';

// Browser globals used inside the page (page.evaluate); the project compiles without the DOM lib.
declare const document: {
  activeElement: { id: string; textContent: string | null } | null;
  documentElement: { scrollWidth: number };
};
declare const window: { innerWidth: number };
declare function getComputedStyle(element: unknown): { outlineStyle: string };
declare class DataTransfer {
  items: { add(file: File): void };
}
declare class File {
  constructor(parts: unknown[], name: string, options: { type: string });
}

if (browserSkipReason) console.warn(`test/web/access.test.ts: ${browserSkipReason}`);

describe.skipIf(Boolean(browserSkipReason))('web app: access and accessibility in Chromium', () => {
  let host: WebHost;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    [host, browser] = await Promise.all([startWebHost(), launchChromium()]);
    context = await browser.newContext(VIEWPORTS.desktop);
  });
  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  it('shows who is signed in: with AUTH_MODE=open, the one local user, and no sign-out', async () => {
    const page = await newPage(context);
    await page.goto(`${host.webUrl}upload.html`);
    const account = page.locator('.site-header .account');
    await expect.poll(() => account.textContent()).toBe('Open mode: local user (every role)');
    expect(await account.getByRole('link').count()).toBe(0);
    expect(page.problems).toEqual([]);
  });

  it('explains a 401 (the session ended) and a 403 (no app role)', async () => {
    const page = await newPage(context, [/status of 40[13]/]);
    await page.route('**/api/images?**', (route) => route.fulfill({ status: 401, body: '' }));
    await page.goto(`${host.webUrl}results.html`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/You are not signed in, or your session has ended: reload the page to sign in again/);
    // Later routes are tried first.
    await page.route('**/api/images?**', (route) => route.fulfill({ status: 403, body: '' }));
    await page.goto(`${host.webUrl}upload.html`);
    await page.setInputFiles('#file', { name: 'x.png', mimeType: 'image/png', buffer: await sampleImage('png', 50, 50) });
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/Not accepted: Your account has no app role that allows this/);
  });

  it('polls GET /api/images/{id} when the upload answers 202 before processing ends', async () => {
    const page = await newPage(context);
    // As if processing took longer than the wait: ask the API not to wait at all.
    await page.route('**/api/images?wait=30', (route) => route.continue({ url: route.request().url().replace('wait=30', 'wait=0') }));
    const polls: string[] = [];
    page.on('request', (request) => {
      if (/\/api\/images\/[0-9a-f-]{36}$/.test(request.url())) polls.push(request.url());
    });
    await page.goto(`${host.webUrl}upload.html`);
    await page.setInputFiles('#file', { name: 'slow.jpg', mimeType: 'image/jpeg', buffer: await sampleImage('jpeg', 400, 300) });
    await page.locator('article[data-status="succeeded"]').waitFor({ timeout: 30_000 });
    expect(polls.length).toBeGreaterThanOrEqual(1);
    expect(await page.getByRole('status').textContent()).toBe('slow.jpg is processed.');
    expect(page.problems).toEqual([]);
  });

  it.each(['index.html', 'upload.html', 'batch.html', 'results.html'])('%s: named controls, one h1, AA contrast, lang, landmarks', async (file) => {
    const page = await newPage(context);
    await page.goto(`${host.webUrl}${file}`);
    await page.waitForLoadState('networkidle');
    expect(await unnamedControls(page)).toEqual([]);
    expect(await lowContrast(page)).toEqual([]);
    expect(await page.locator('h1').count()).toBe(1);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.getByRole('main').count()).toBe(1);
    expect(await page.getByRole('navigation', { name: 'Pages', exact: true }).count()).toBe(1);
    if (file !== 'index.html') expect(await page.locator('[aria-live]').count()).toBeGreaterThan(0);
    expect(page.problems).toEqual([]);
  });

  it('is usable from the keyboard with a visible focus', async () => {
    const page = await newPage(context);
    await page.goto(`${host.webUrl}upload.html`);
    const focused = () => page.evaluate(() => ({ id: document.activeElement?.id, text: document.activeElement?.textContent?.trim() }));
    await page.keyboard.press('Tab');
    expect((await focused()).text).toBe('Skip to content');
    expect(await page.locator('.skip-link').evaluate((e) => (e as unknown as { getBoundingClientRect(): { top: number } }).getBoundingClientRect().top >= 0)).toBe(true);
    // Skip link, brand, four nav links, then the file input inside the drop zone.
    for (let i = 0; i < 6; i++) await page.keyboard.press('Tab');
    expect((await focused()).id).toBe('file');
    expect(await page.locator('#dropzone').evaluate((e) => getComputedStyle(e).outlineStyle)).toBe('solid');
    await screenshot(page, 'upload-keyboard-focus-desktop');

    await page.goto(`${host.webUrl}batch.html`);
    await page.locator('#files').focus();
    await page.keyboard.press('Tab');
    expect((await focused()).id).toBe('folder');
    expect(await page.locator('label[for="folder"]').evaluate((e) => getComputedStyle(e).outlineStyle)).toBe('solid');

    await page.goto(`${host.webUrl}results.html`);
    await page.getByLabel('Status').focus();
    expect(await page.getByLabel('Status').evaluate((e) => getComputedStyle(e).outlineStyle)).toBe('solid');
  });

  it('fits a phone width without sideways scrolling', async () => {
    const phone = await browser.newContext(VIEWPORTS.phone);
    for (const file of ['index.html', 'upload.html', 'batch.html', 'results.html', 'insights.html']) {
      const page = await newPage(phone);
      await page.goto(`${host.webUrl}${file}`);
      await page.waitForLoadState('networkidle');
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), file).toBe(true);
      if (file === 'index.html' || file === 'batch.html' || file === 'insights.html') await screenshot(page, `${file.replace('.html', '')}-phone`);
      await page.close();
    }
  });

  it('takes dropped files: one on the upload page, several on the batch page', async () => {
    const page = await newPage(context);
    const gif = [...(await sampleImage('gif', 120, 80))];
    const drop = (files: Array<{ name: string; type: string; bytes: number[] }>) =>
      page.evaluateHandle((list) => {
        const transfer = new DataTransfer();
        for (const file of list) transfer.items.add(new File([new Uint8Array(file.bytes)], file.name, { type: file.type }));
        return transfer;
      }, files);
    await page.goto(`${host.webUrl}upload.html`);
    await page.dispatchEvent('#dropzone', 'drop', { dataTransfer: await drop([{ name: 'dropped.gif', type: 'image/gif', bytes: gif }]) });
    await page.getByRole('article', { name: 'Result for dropped.gif' }).locator('.palette-colour').first().waitFor({ timeout: 30_000 });

    await page.goto(`${host.webUrl}batch.html`);
    const files = [
      { name: 'one.gif', type: 'image/gif', bytes: gif },
      { name: 'two.gif', type: 'image/gif', bytes: gif },
    ];
    await page.dispatchEvent('#dropzone', 'drop', { dataTransfer: await drop(files) });
    await expect.poll(() => page.locator('#file-table tbody .name-cell').allTextContents()).toEqual(['one.gif', 'two.gif']);
    expect(page.problems).toEqual([]);
  });
});
