import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { sampleImage } from '../support/images';
import { browserSkipReason, launchChromium, lowContrast, newPage, screenshot, startWebHost, unnamedControls, VIEWPORTS, type WebHost } from './browser';

if (browserSkipReason) console.warn(`test/web/insights.test.ts: ${browserSkipReason}`);

// Its phone width is checked with the other pages in access.test.ts.
describe.skipIf(Boolean(browserSkipReason))('Insights page in Chromium', () => {
  let host: WebHost;
  let browser: Browser;
  let desktop: BrowserContext;

  beforeAll(async () => {
    [host, browser] = await Promise.all([startWebHost(), launchChromium()]);
    desktop = await browser.newContext(VIEWPORTS.desktop);
    // Three processed images and one that fails, through the API.
    for (const [format, width] of [['png', 300], ['jpeg', 640], ['webp', 200]] as const) {
      const body = new FormData();
      body.append('file', new Blob([new Uint8Array(await sampleImage(format, width, 200))]), `sample.${format}`);
      expect((await fetch(`${host.apiUrl}/images?wait=30`, { method: 'POST', body })).status).toBe(200);
    }
    const broken = Buffer.from(await sampleImage('png'));
    for (let i = broken.indexOf('IDAT') + 8; i < broken.indexOf('IDAT') + 40; i++) broken[i] ^= 0x5a;
    const body = new FormData();
    body.append('file', new Blob([new Uint8Array(broken)]), 'broken.png');
    expect((await fetch(`${host.apiUrl}/images?wait=30`, { method: 'POST', body })).status).toBe(200);
  });
  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  it('shows the key figures and charts of GET /api/stats, and narrows to a batch', async () => {
    const page = await newPage(desktop, [/status of 400/]);
    await page.goto(host.webUrl);
    await page.getByRole('link', { name: 'Insights', exact: true }).first().click();
    await expect.poll(() => page.title()).toMatch(/Insights/);
    await page.locator('#insights:not([hidden])').waitFor();
    const kpi = (name: string) => page.locator(`[data-kpi="${name}"] .count`).textContent();
    expect(await kpi('images')).toBe('4');
    expect(await kpi('succeeded')).toBe('3');
    expect(await kpi('failed')).toBe('1');
    expect(await kpi('success-rate')).toBe('75%');
    const charts = await page.getByRole('img').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('aria-label')));
    expect(charts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Images per day: \d{4}-\d{2}-\d{2} 4$/),
        expect.stringMatching(/^Formats \(processed images\): (?=.*JPEG 1)(?=.*PNG 1)(?=.*WEBP 1)/),
        expect.stringMatching(/^Top failure reasons: undecodable 1$/),
        expect.stringMatching(/^Processing time per image: /),
        expect.stringMatching(/^Megapixels: /),
      ]),
    );
    expect(await page.getByRole('status').textContent()).toMatch(/^4 images from \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}\.$/);
    expect(await unnamedControls(page)).toEqual([]);
    expect(await lowContrast(page)).toEqual([]);
    await screenshot(page, 'insights-desktop');

    // A batch nobody sent: no images; a malformed id: the API's problem detail.
    await page.getByLabel('Batch id').fill('no-such-batch');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => kpi('images')).toBe('0');
    await page.getByLabel('Batch id').fill('not a batch');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/batch is not a valid batch id/);
    expect(page.problems).toEqual([]);
  });
});
