import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { sampleImage, textFile } from '../support/images';
import { browserSkipReason, launchChromium, lowContrast, newPage, screenshot, startWebHost, VIEWPORTS, type WebHost } from './browser';

if (browserSkipReason) console.warn(`test/web/pages.test.ts: ${browserSkipReason}`);

describe.skipIf(Boolean(browserSkipReason))('web app in Chromium', () => {
  let host: WebHost;
  let browser: Browser;
  let desktop: BrowserContext;
  let phone: BrowserContext;

  beforeAll(async () => {
    [host, browser] = await Promise.all([startWebHost(), launchChromium()]);
    [desktop, phone] = await Promise.all([browser.newContext(VIEWPORTS.desktop), browser.newContext(VIEWPORTS.phone)]);
  });
  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  it('uploads an image and shows its thumbnail, metadata and palette', async () => {
    const page = await newPage(desktop);
    await page.goto(host.webUrl);
    await page.getByRole('link', { name: 'Upload', exact: true }).click();
    await expect.poll(() => page.title()).toMatch(/Upload an image/);

    await page.setInputFiles('#file', { name: 'scene.png', mimeType: 'image/png', buffer: await sampleImage('png', 300, 200) });
    const result = page.getByRole('article', { name: 'Result for scene.png' });
    await result.waitFor({ timeout: 30_000 });
    await result.locator('[data-status="succeeded"], .badge-succeeded').first().waitFor({ timeout: 30_000 });
    const thumbnail = page.getByRole('img', { name: 'Thumbnail of scene.png' });
    await expect.poll(() => thumbnail.evaluate((img) => { const image = img as unknown as { complete: boolean; naturalWidth: number }; return image.complete ? image.naturalWidth : 0; })).toBeGreaterThan(0);
    expect(await page.locator('#upload-progress').getAttribute('value')).toBe('100');
    expect(await result.locator('dd', { hasText: '300 × 200 px' }).count()).toBe(1);
    expect(await result.locator('code.hash').first().textContent()).toMatch(/^[0-9a-f]{16}$/);
    const swatches = await page.locator('.palette-colour').evaluateAll((items) => items.map((item) => item.getAttribute('data-colour')));
    expect(swatches.length).toBeGreaterThanOrEqual(2);
    for (const colour of swatches) expect(colour).toMatch(/^#[0-9a-f]{6}$/);
    expect(await page.getByRole('status').textContent()).toContain('scene.png is processed');
    await screenshot(page, 'upload-desktop');
    expect(await lowContrast(page)).toEqual([]);
    expect(page.problems).toEqual([]);

    // The same result at phone width, opened by its link (upload.html#<id>).
    const id = await result.locator('dt:text-is("Id") + dd').textContent();
    const mobile = await newPage(phone);
    await mobile.goto(`${host.webUrl}upload.html#${id}`);
    await mobile.getByRole('article', { name: 'Result for scene.png' }).locator('.palette-colour').first().waitFor();
    await screenshot(mobile, 'upload-result-phone');
    expect(mobile.problems).toEqual([]);
  });

  it('shows the problem detail for a rejected file', async () => {
    const page = await newPage(phone, [/status of 415/]);
    await page.goto(`${host.webUrl}upload.html`);
    await page.setInputFiles('#file', { name: 'notes.png', mimeType: 'image/png', buffer: textFile() });
    const alert = page.getByRole('alert');
    await alert.waitFor();
    // The page shows the API's own problem detail, word for word.
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(textFile())], { type: 'image/png' }), 'notes.png');
    const problem = (await (await fetch(`${host.apiUrl}/images`, { method: 'POST', body: form })).json()) as { status: number; detail: string };
    expect(problem.status).toBe(415);
    expect(problem.detail).toMatch(/is not a .*image/);
    expect(await alert.textContent()).toBe(`Not accepted: ${problem.detail}`);
    expect(await page.locator('#result').textContent()).toBe('');
    await screenshot(page, 'upload-rejected-phone');
    expect(page.problems).toEqual([]);
  });

  it('lists the uploaded images in Results, filters them and opens a detail view', async () => {
    // One more processed image in another format, through the API.
    const jpeg = await sampleImage('jpeg', 240, 160);
    const uploaded = await fetch(`${host.apiUrl}/images?wait=30`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(jpeg) });
    expect(uploaded.status).toBe(200);

    const page = await newPage(desktop);
    await page.goto(`${host.webUrl}results.html`);
    const cards = page.locator('.gallery-item');
    await expect.poll(() => cards.count()).toBe(2);
    const png = page.locator('.gallery-item', { hasText: 'scene.png' });
    expect(await png.count()).toBe(1);
    await expect.poll(() => png.locator('img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await screenshot(page, 'results-desktop');

    await page.getByLabel('Format').selectOption('jpeg');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/Showing 1 image on page 1 \(filtered\)/);
    expect(await cards.count()).toBe(1);
    expect(await cards.first().textContent()).toContain('JPEG');
    expect(page.url()).toContain('format=jpeg');

    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('No images match these filters.');

    await page.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => cards.count()).toBe(2);

    // Keyboard: focus the scene.png card, open it with Enter, close with Escape.
    await png.getByRole('button').focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'scene.png' });
    await dialog.waitFor();
    await dialog.locator('.palette-colour').first().waitFor();
    await expect.poll(() => dialog.getByRole('img', { name: 'Preview of scene.png' }).evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(300);
    expect(page.url()).toMatch(/#[0-9a-f-]{36}$/);
    await screenshot(page, 'results-detail-desktop');
    expect(await lowContrast(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(page.problems).toEqual([]);

    const mobile = await newPage(phone);
    await mobile.goto(`${host.webUrl}results.html`);
    await expect.poll(() => mobile.locator('.gallery-item img').count()).toBe(2);
    await screenshot(mobile, 'results-phone');
    expect(mobile.problems).toEqual([]);
  });

  it('sends a batch of 5 with one bad file and shows progress, the summary and the failure reason', async () => {
    const page = await newPage(desktop);
    await page.goto(`${host.webUrl}batch.html`);
    const files = [
      { name: 'a-scene.png', mimeType: 'image/png', buffer: await sampleImage('png', 320, 240) },
      { name: 'b-scene.jpg', mimeType: 'image/jpeg', buffer: await sampleImage('jpeg', 320, 240) },
      { name: 'c-scene.webp', mimeType: 'image/webp', buffer: await sampleImage('webp', 160, 120) },
      { name: 'd-notes.jpg', mimeType: 'image/jpeg', buffer: textFile() },
      { name: 'e-small.gif', mimeType: 'image/gif', buffer: await sampleImage('gif', 200, 100) },
    ];
    await page.setInputFiles('#files', files);
    expect(await page.locator('#file-table tbody tr').count()).toBe(5);
    expect(await page.locator('#selection-summary').textContent()).toMatch(/^5 files, /);
    await screenshot(page, 'batch-chosen-desktop');

    await page.getByRole('button', { name: 'Send batch' }).click();
    const summary = page.getByRole('region', { name: 'Summary' });
    await summary.waitFor({ timeout: 45_000 });
    expect(await page.locator('#overall-progress').getAttribute('value')).toBe('100');
    for (const progress of await page.locator('#file-table tbody progress').all()) expect(await progress.getAttribute('value')).toBe('100');
    expect(await summary.locator('[data-count="summary-succeeded"] .count').textContent()).toBe('4');
    expect(await summary.locator('[data-count="summary-failed"] .count').textContent()).toBe('1');

    const failure = summary.locator('#failures tbody tr');
    expect(await failure.count()).toBe(1);
    expect(await failure.locator('td').nth(1).textContent()).toBe('d-notes.jpg');
    expect(await failure.locator('td').nth(2).textContent()).toMatch(/not a JPEG, PNG, GIF, WebP, TIFF or BMP image/);
    expect(await page.locator('#file-table tbody tr[data-index="3"] .reason').textContent()).toMatch(/not a JPEG/);

    // The same scene as PNG and JPEG is one duplicate group, shown with its thumbnails.
    const group = summary.locator('.duplicate-group').first();
    await expect.poll(() => group.locator('img').evaluateAll((imgs) => imgs.filter((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0).length)).toBeGreaterThanOrEqual(2);
    expect(await group.textContent()).toContain('a-scene.png');
    expect(await group.textContent()).toContain('b-scene.jpg');

    const charts = summary.getByRole('img', { name: /^Formats \(processed images\): / });
    expect(await charts.getAttribute('aria-label')).toMatch(/PNG 1.*JPEG 1|JPEG 1.*PNG 1/);
    expect(await summary.locator('svg.chart').count()).toBe(3);
    expect(await page.getByRole('status').textContent()).toBe('Batch complete: 4 succeeded, 1 failed.');
    expect(page.url()).toMatch(/batch\.html#[0-9a-f-]{36}$/);
    await screenshot(page, 'batch-summary-desktop');
    expect(await lowContrast(page)).toEqual([]);
    expect(page.problems).toEqual([]);

    // A reload (or a link) follows the batch by its id; at phone width.
    const mobile = await newPage(phone);
    await mobile.goto(page.url());
    await mobile.getByRole('region', { name: 'Summary' }).waitFor();
    await screenshot(mobile, 'batch-summary-phone');
    expect(mobile.problems).toEqual([]);
  });

  it('pages through Results with Next and Previous', async () => {
    const page = await newPage(desktop);
    // Seven images exist by now; pages of three make three pages.
    await page.route('**/api/images?**', (route) => route.continue({ url: route.request().url().replace('limit=24', 'limit=3') }));
    await page.goto(`${host.webUrl}results.html`);
    const cards = page.locator('.gallery-item');
    const next = page.getByRole('button', { name: 'Next page' });
    const previous = page.getByRole('button', { name: 'Previous page' });
    const seen: string[] = [];
    for (const [label, count] of [['Page 1', 3], ['Page 2', 3], ['Page 3', 1]] as const) {
      await expect.poll(() => page.locator('#page-label').textContent()).toBe(label);
      expect(await cards.count()).toBe(count);
      seen.push(...(await cards.evaluateAll((items) => items.map((item) => item.getAttribute('data-id')!))));
      if (label !== 'Page 3') await next.click();
    }
    expect(new Set(seen).size).toBe(7);
    expect(await next.isDisabled()).toBe(true);
    await previous.click();
    await expect.poll(() => page.locator('#page-label').textContent()).toBe('Page 2');
    expect(await cards.evaluateAll((items) => items.map((item) => item.getAttribute('data-id')))).toEqual(seen.slice(3, 6));
    expect(page.problems).toEqual([]);
  });

  it('starts Results again at the first page when the API refuses a continuation token (by its problem type)', async () => {
    const page = await newPage(desktop, [/status of 400/]);
    // Pages of three, and every continuation token altered on its way: the real API answers 400 invalid-continuation-token.
    await page.route('**/api/images?**', (route) => {
      const url = new URL(route.request().url());
      url.searchParams.set('limit', '3');
      if (url.searchParams.has('continuationToken')) url.searchParams.set('continuationToken', `${url.searchParams.get('continuationToken')}x`);
      return route.continue({ url: url.toString() });
    });
    await page.goto(`${host.webUrl}results.html`);
    await expect.poll(() => page.locator('#page-label').textContent()).toBe('Page 1');
    const first = await page.locator('.gallery-item').evaluateAll((items) => items.map((item) => item.getAttribute('data-id')));
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/^The listing had to start again: Showing 3 images on page 1/);
    expect(await page.locator('#page-label').textContent()).toBe('Page 1');
    expect(await page.locator('.gallery-item').evaluateAll((items) => items.map((item) => item.getAttribute('data-id')))).toEqual(first);
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(page.problems).toEqual([]);
  });

  it('takes a whole folder from the folder picker, leaving hidden files out', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'web-batch-'));
    await mkdir(join(folder, 'holiday', 'day 2'), { recursive: true });
    await writeFile(join(folder, 'holiday', 'beach.png'), await sampleImage('png', 60, 40));
    await writeFile(join(folder, 'holiday', 'day 2', 'hill.jpg'), await sampleImage('jpeg', 60, 40));
    await writeFile(join(folder, 'holiday', '.DS_Store'), 'junk');
    const page = await newPage(phone);
    await page.goto(`${host.webUrl}batch.html`);
    await page.setInputFiles('#folder', join(folder, 'holiday'));
    const names = await page.locator('#file-table tbody .name-cell').allTextContents();
    expect(names.sort()).toEqual(['holiday/beach.png', 'holiday/day 2/hill.jpg']);
    expect(await page.getByRole('status').textContent()).toBe('2 files chosen; 1 hidden file left out.');
    await screenshot(page, 'batch-folder-phone');
    await rm(folder, { recursive: true, force: true });
    expect(page.problems).toEqual([]);
  });
});
