import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { sampleImage } from '../support/images';
import { browserSkipReason, launchChromium, lowContrast, newPage, screenshot, startWebHost, unnamedControls, VIEWPORTS, type WebHost } from './browser';

if (browserSkipReason) console.warn(`test/web/sign-in.test.ts: ${browserSkipReason}`);

// In Chromium against the local host with AUTH_MODE=easyauth: a page sends a browser that is not signed in to the
// development sign-in (where Easy Auth's Entra ID sign-in is in Azure), and each user sees only their own images.
describe.skipIf(Boolean(browserSkipReason))('web app: signed-in users see only their own images', () => {
  let host: WebHost;
  let browser: Browser;

  beforeAll(async () => {
    [host, browser] = await Promise.all([startWebHost({ AUTH_MODE: 'easyauth' }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  it('sign in as Alice, upload, see it; sign out; sign in as Bob, see none of it', async () => {
    const page = await newPage(await browser.newContext(VIEWPORTS.desktop));
    await page.goto(`${host.webUrl}upload.html`);
    // Not signed in: the sign-in page, clearly marked as local-only.
    await expect.poll(() => new URL(page.url()).pathname).toBe('/.auth/login/aad');
    expect(await page.getByRole('note').textContent()).toMatch(/Local only\..*In Azure this address is App Service Authentication's sign-in with Entra ID/s);
    expect(await unnamedControls(page)).toEqual([]);
    expect(await lowContrast(page)).toEqual([]);
    await screenshot(page, 'local-sign-in-desktop');
    await page.getByRole('button', { name: 'Sign in as Alice (uploader)' }).click();

    // Back where she was, signed in.
    await expect.poll(() => page.url()).toBe(`${host.webUrl}upload.html`);
    const account = page.locator('.site-header .account');
    await expect.poll(() => account.textContent()).toBe('Signed in as Alice (uploader) Sign out');
    await page.setInputFiles('#file', { name: 'alices.png', mimeType: 'image/png', buffer: await sampleImage('png', 120, 90) });
    const result = page.getByRole('article', { name: 'Result for alices.png' });
    await result.locator('.palette-colour').first().waitFor({ timeout: 20_000 });
    const id = (await result.locator('dd code').last().textContent())!;
    // The thumbnail comes with her session, like any image on the page.
    await expect.poll(() => result.getByRole('img', { name: 'Thumbnail of alices.png' }).evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(120);

    await page.goto(`${host.webUrl}results.html`);
    await page.getByRole('list', { name: 'Images' }).getByText('alices.png').waitFor({ timeout: 10_000 });
    expect(await page.locator('#gallery li').count()).toBe(1);

    await page.getByRole('link', { name: 'Sign out' }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/.auth/login/aad');
    await page.getByRole('button', { name: 'Sign in as Bob (uploader)' }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/api/web/index.html');
    await expect.poll(() => account.textContent()).toBe('Signed in as Bob (uploader) Sign out');

    await page.goto(`${host.webUrl}results.html`);
    await expect.poll(() => page.getByRole('status').textContent()).toBe('No images yet.');
    expect(await page.locator('#gallery li').count()).toBe(0);
    // Not even by its id: the same answer as for an id nobody has.
    await page.goto(`${host.webUrl}index.html`);
    await page.goto(`${host.webUrl}results.html#${id}`);
    const refused = page.locator('#detail-body [role=alert]');
    await refused.waitFor({ timeout: 10_000 });
    expect(await refused.textContent()).toBe(`No image with id "${id}".`);
    await screenshot(page, 'signed-in-bob-sees-nothing-desktop');
    expect(page.problems.filter((p) => !/status of 404/.test(p))).toEqual([]);
  });
});
