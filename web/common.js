/* global document, location, fetch, XMLHttpRequest, URL, setTimeout */
// Shared by every page: where the API is, who is signed in, requests, formatting and the image result view.
// Plain ES modules with no build step: the function app serves this folder as it is.

/** The API root: the pages are served from <root>/web/, so it is one level up (`/api/` by default). */
const API_ROOT = new URL('../', location.href);

export const apiUrl = (path) => new URL(path, API_ROOT).toString();
export const imagePath = (id, derivative) => `images/${encodeURIComponent(id)}${derivative ? `/${derivative}` : ''}`;

// Who calls the API is the signed-in user: App Service Authentication's session cookie in Azure, the development
// sign-in's locally (AUTH_MODE=easyauth), nobody in particular with AUTH_MODE=open. The browser sends the cookie with
// every request to this origin, images included; the pages hold no key or token.

/** Problem types are `urn:image-pipeline:problem:<name>` (README, "Problem types"): pages branch on the name. */
const PROBLEM_TYPE_PREFIX = 'urn:image-pipeline:problem:';

export class ApiError extends Error {
  constructor(status, detail, problem, retryAfterSeconds) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
    /** The problem type's name, such as 'invalid-continuation-token'; undefined when the answer was no problem+json. */
    this.type = typeof problem?.type === 'string' && problem.type.startsWith(PROBLEM_TYPE_PREFIX) ? problem.type.slice(PROBLEM_TYPE_PREFIX.length) : undefined;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A store is down for a moment: polling waits and asks again rather than giving up. */
export const isTransient = (error) => error instanceof ApiError && error.type === 'dependency-unavailable';

function parseJson(text) {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** The message to show for a failed call: the problem+json `detail` when the API sent one. */
function errorFor(status, body, retryAfter) {
  if (body && typeof body.detail === 'string') return new ApiError(status, body.detail, body, Number(retryAfter) || undefined);
  if (status === 401) return new ApiError(status, 'You are not signed in, or your session has ended: reload the page to sign in again.');
  if (status === 403) return new ApiError(status, 'Your account has no app role that allows this (uploader, analyst or operator): ask an administrator to assign one.');
  return new ApiError(status, `The API answered ${status}${body && body.title ? ` (${body.title})` : ''}.`, body);
}

/** GET or POST to the API, JSON in and out; throws ApiError with the problem detail on a 4xx/5xx. */
export async function api(path, init = {}) {
  let response;
  try {
    response = await fetch(apiUrl(path), { ...init, headers: { accept: 'application/json', ...init.headers } });
  } catch {
    throw new ApiError(0, 'The API cannot be reached; check the connection and try again.');
  }
  const body = parseJson(await response.text());
  if (!response.ok) throw errorFor(response.status, body, response.headers.get('retry-after'));
  return { status: response.status, body, headers: response.headers };
}

/**
 * POSTs a FormData with XMLHttpRequest, the one browser API that reports upload progress.
 * onProgress(loaded, total) runs as bytes leave; resolves { status, body, location }, rejects with ApiError.
 */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', apiUrl(path));
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener('load', () => {
      const body = parseJson(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve({ status: xhr.status, body, location: xhr.getResponseHeader('location') });
      } else {
        reject(errorFor(xhr.status, body, xhr.getResponseHeader('retry-after')));
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'The upload failed: the connection was lost or refused.')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'The upload was cancelled.')));
    xhr.send(form);
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- DOM --------------------------------------------------------------------------------------------------------

/**
 * Builds an element: h('p', { class: 'note' }, 'text', child). Text is always set as text, never parsed as HTML,
 * so file names and API strings cannot inject markup.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Object && 'nodeType' in child ? child : String(child));
  }
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  for (const child of children.flat()) if (child) element.append(child instanceof Object && 'nodeType' in child ? child : String(child));
  return element;
}

/** Shows an API image (a thumbnail or preview) in an <img>: the browser loads it with the session cookie and caches it. */
export async function showImage(img, path) {
  img.src = apiUrl(path);
}

/**
 * Who is signed in, in the page header, with a way to sign out (GET /api/me). With AUTH_MODE=open (the local host's
 * default) there is nobody to sign out.
 */
async function showAccount() {
  const header = document.querySelector('.site-header');
  if (!header) return;
  let me;
  try {
    ({ body: me } = await api('me'));
  } catch {
    return; // the page's own requests say what is wrong
  }
  const roles = me.roles.length ? me.roles.join(', ') : 'no role';
  const account = h(
    'p',
    { class: 'account', 'data-user': me.id },
    me.authMode === 'open' ? [h('span', {}, 'Open mode: '), h('strong', {}, 'local user'), ' (every role)'] : [h('span', {}, 'Signed in as '), h('strong', {}, me.name), ` (${roles})`],
    me.signOut ? [' ', h('a', { href: me.signOut }, 'Sign out')] : null,
  );
  header.append(account);
}
showAccount();

/** A horizontal bar chart as inline SVG, with its numbers in the accessible name and as text on the bars. */
export function barChart(title, data, format = String) {
  const width = 360;
  const label = 112;
  const row = 28;
  const height = data.length * row + 8;
  const max = Math.max(1, ...data.map(([, value]) => value));
  const description = `${title}: ${data.map(([name, value]) => `${name} ${format(value)}`).join(', ') || 'none'}`;
  return h(
    'figure',
    { class: 'chart-figure' },
    h('figcaption', {}, title),
    svg(
      'svg',
      { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': description },
      svg('title', {}, description),
      svg('line', { class: 'axis', x1: label, x2: label, y1: 0, y2: height }),
      data.map(([name, value], i) => {
        const y = i * row + 4;
        const barWidth = ((width - label - 64) * value) / max;
        return svg(
          'g',
          {},
          svg('text', { x: label - 8, y: y + row / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, name),
          svg('rect', { class: 'bar', x: label, y: y + 3, width: Math.max(value > 0 ? 2 : 0, barWidth), height: row - 8, rx: 3 }),
          svg('text', { x: label + barWidth + 6, y: y + row / 2, 'dominant-baseline': 'middle' }, format(value)),
        );
      }),
    ),
  );
}

/** Marks the current page in the navigation. */
export function markCurrentPage() {
  const page = location.pathname.split('/').pop() || 'index.html';
  for (const link of document.querySelectorAll('nav a')) {
    if (link.getAttribute('href') === page) link.setAttribute('aria-current', 'page');
  }
}

// ---- Formatting -------------------------------------------------------------------------------------------------

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
export function formatBytes(bytes) {
  if (typeof bytes !== 'number') return '–';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${numberFormat.format(bytes / 1024)} KB`;
  return `${numberFormat.format(bytes / 1024 / 1024)} MB`;
}
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export const formatDate = (iso) => (iso ? dateFormat.format(new Date(iso)) : '–');
export const formatPercent = (share) => `${Math.round(share * 100)}%`;
export const formatMs = (ms) => (typeof ms === 'number' ? (ms < 1000 ? `${Math.round(ms)} ms` : `${numberFormat.format(ms / 1000)} s`) : '–');

export const STATUS_LABELS = { queued: 'Queued', processing: 'Processing', succeeded: 'Processed', failed: 'Failed', receiving: 'Receiving', completed: 'Completed' };
export const statusBadge = (status) => h('span', { class: `badge badge-${status}` }, STATUS_LABELS[status] ?? status);

// ---- The result of one image -------------------------------------------------------------------------------------

function palette(colours) {
  return h(
    'ul',
    { class: 'palette', 'aria-label': 'Palette' },
    colours.map(({ colour, share }) => {
      const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      swatch.style.backgroundColor = colour; // CSSOM, which the page's style-src 'self' policy allows
      return h('li', { class: 'palette-colour', 'data-colour': colour }, swatch, h('code', {}, colour), h('span', { class: 'share' }, formatPercent(share)));
    }),
  );
}

const row = (term, ...value) => [h('dt', {}, term), h('dd', {}, ...value)];

/** The full result of one image: thumbnail, status, metadata, palette, hash, sharpness. */
export function resultView(image, { headingLevel = 2 } = {}) {
  const name = image.source?.fileName || image.id;
  const m = image.metadata;
  const a = image.analysis;
  const thumbnail = h('img', { class: 'thumbnail', alt: `Thumbnail of ${name}`, width: image.derivatives?.thumbnail?.width, height: image.derivatives?.thumbnail?.height });
  const figure = image.derivatives?.thumbnail
    ? h('figure', { class: 'result-figure' }, thumbnail)
    : h('figure', { class: 'result-figure placeholder' }, h('span', {}, image.status === 'failed' ? 'No thumbnail' : 'Thumbnail not ready'));
  if (image.derivatives?.thumbnail) showImage(thumbnail, imagePath(image.id, 'thumbnail')).catch(() => thumbnail.replaceWith(h('span', {}, 'Thumbnail unavailable')));

  const facts = h(
    'dl',
    { class: 'facts' },
    row('Status', statusBadge(image.status)),
    image.error ? row('Reason', h('span', { class: 'reason' }, image.error.reason)) : null,
    m ? row('Format', m.format.toUpperCase()) : image.source?.contentType ? row('Type', image.source.contentType) : null,
    m ? row('Dimensions', `${m.width} × ${m.height} px`) : null,
    row('Size', formatBytes(m?.bytes ?? image.source?.bytes)),
    m?.camera ? row('Camera', [m.camera.make, m.camera.model].filter(Boolean).join(' ')) : null,
    m?.takenAt ? row('Taken', m.takenAt) : null,
    row('Uploaded', formatDate(image.source?.uploadedAt ?? image.createdAt)),
    image.batchId ? row('Batch', h('a', { href: `batch.html#${encodeURIComponent(image.batchId)}` }, image.batchId)) : null,
    image.processing && image.status !== 'failed' ? row('Processed in', `${formatMs(image.processing.durationMs)} (${image.processing.engine})`) : null,
    a ? row('Perceptual hash', h('code', { class: 'hash' }, a.perceptualHash)) : null,
    a ? row('Sharpness', String(a.sharpness)) : null,
    a ? row('Brightness', formatPercent(a.brightness)) : null,
    a ? row('Contrast', String(a.contrast)) : null,
    row('SHA-256', h('code', { class: 'hash long' }, image.source?.sha256 ?? '–')),
    row('Id', h('code', {}, image.id)),
  );
  return h(
    'article',
    { class: 'result', 'data-status': image.status, 'aria-label': `Result for ${name}` },
    h(`h${headingLevel}`, { class: 'result-title' }, name),
    h('div', { class: 'result-body' }, figure, h('div', {}, facts, a?.palette?.length ? [h(`h${headingLevel + 1}`, {}, 'Palette'), palette(a.palette)] : null)),
  );
}

/** Polls GET /api/images/{id} until the image is processed or failed; a store that is down for a while is waited out. */
export async function waitForImage(id, { intervalMs = 1000, timeoutMs = 120_000, onUpdate } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let body;
    try {
      ({ body } = await api(imagePath(id)));
    } catch (caught) {
      if (!isTransient(caught) || Date.now() > deadline) throw caught;
      await sleep((caught.retryAfterSeconds ?? 1) * 1000);
      continue;
    }
    onUpdate?.(body);
    if (body.status === 'succeeded' || body.status === 'failed') return body;
    if (Date.now() > deadline) throw new ApiError(0, 'The image is still being processed; look for it on the Results page later.');
    await sleep(intervalMs);
  }
}

/** Highlights `zone` while files are dragged over it and hands a drop's DataTransfer to `onDrop`. */
export function dropTarget(zone, onDrop) {
  for (const type of ['dragenter', 'dragover']) {
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add('dragging');
    });
  }
  for (const type of ['dragleave', 'drop']) zone.addEventListener(type, () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    onDrop(event.dataTransfer);
  });
}
