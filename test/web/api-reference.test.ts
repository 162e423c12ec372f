import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ROUTES, WEB_ROUTES } from '../../src/lib/api/routes';
import { problemTypeUri } from '../../src/lib/problem';
import { browserSkipReason, launchChromium, lowContrast, newPage, screenshot, startWebHost, unnamedControls, VIEWPORTS, type WebHost } from './browser';

// Browser globals used inside the page (page.evaluate); the project compiles without the DOM lib.
declare const document: { documentElement: { scrollWidth: number } };
declare const window: { innerWidth: number };

if (browserSkipReason) console.warn(`test/web/api-reference.test.ts: ${browserSkipReason}`);

describe.skipIf(Boolean(browserSkipReason))('API reference page in Chromium', () => {
  let host: WebHost;
  let browser: Browser;

  beforeAll(async () => {
    [host, browser] = await Promise.all([startWebHost(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  for (const [size, options] of Object.entries(VIEWPORTS)) {
    it(`renders every operation of the served OpenAPI document, with parameters, problem types and schemas (${size})`, async () => {
      const page = await newPage(await browser.newContext(options));
      await page.goto(`${host.webUrl}api.html`);
      const routes = [...ROUTES, ...WEB_ROUTES];
      await page.getByRole('status').getByText(`${routes.length} operations.`).waitFor({ timeout: 20_000 });
      for (const route of routes) {
        await expect(page.getByRole('heading', { name: `${route.method} /api/${route.route}`, exact: true }).count()).resolves.toBe(1);
      }
      const upload = page.locator('#op-uploadImage');
      await expect(upload.getByRole('row', { name: /wait/ }).count()).resolves.toBe(1);
      await expect(upload.getByText(problemTypeUri('too-many-pixels'), { exact: true }).count()).resolves.toBe(1);
      await expect(page.locator('#op-getImageDerivative').getByText(problemTypeUri('derivative-not-ready'), { exact: true }).count()).resolves.toBe(1);
      await expect(page.getByRole('heading', { name: 'ImageResult', exact: true }).count()).resolves.toBe(1);
      await expect(page.locator('#schema-ImageResult').getByRole('row', { name: /perceptualHash|analysis/ }).count()).resolves.toBeGreaterThan(0);
      // The contents link to their operation; the server shown is this host.
      await page.getByRole('link', { name: 'POST /api/batches/{id}/retry' }).click();
      expect(new URL(page.url()).hash).toBe('#op-retryBatch');
      await expect(page.locator('#api-intro code').textContent()).resolves.toBe(host.apiUrl);
      expect(await lowContrast(page)).toEqual([]);
      expect(await unnamedControls(page)).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await screenshot(page, `api-reference-${size}`);
      expect(page.problems).toEqual([]);
    });
  }
});
