/* global document, location, history, URLSearchParams, FormData, setTimeout */
import { api, ApiError, formatBytes, formatDate, h, imagePath, markCurrentPage, resultView, showImage, statusBadge } from './common.js';

markCurrentPage();

const PAGE_SIZE = 24;
const form = document.getElementById('filters');
const gallery = document.getElementById('gallery');
const status = document.getElementById('status');
const error = document.getElementById('error');
const previous = document.getElementById('previous');
const next = document.getElementById('next');
const pageLabel = document.getElementById('page-label');
const dialog = document.getElementById('detail');
const detailTitle = document.getElementById('detail-title');
const detailBody = document.getElementById('detail-body');

/** Continuation tokens of the pages seen so far: tokens[n] fetches page n + 1 (page 1 needs none). */
let tokens = [undefined];
let page = 0;

const FIELDS = ['status', 'format', 'from', 'to', 'batch'];

function showError(message) {
  error.hidden = false;
  error.textContent = message;
}

/** A local calendar date (yyyy-mm-dd) as the instant its day starts here, plus `days`. */
function startOfLocalDay(value, days = 0) {
  const [y, m, d] = value.split('-').map(Number);
  return new Date(y, m - 1, d + days).toISOString();
}

function filterValues() {
  const data = new FormData(form);
  return Object.fromEntries(FIELDS.map((name) => [name, String(data.get(name) ?? '').trim()]));
}

/** The API query for the filters: dates become the local day's bounds, the "to" day included. */
function apiQuery(values, token) {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (values.status) query.set('status', values.status);
  if (values.format) query.set('format', values.format);
  if (values.from) query.set('from', startOfLocalDay(values.from));
  if (values.to) query.set('to', startOfLocalDay(values.to, 1));
  if (values.batch) query.set('batch', values.batch);
  if (token) query.set('continuationToken', token);
  return query;
}

/** Keeps the filters in the address, so a reload or a shared link shows the same gallery. */
function rememberFilters(values) {
  const query = new URLSearchParams();
  for (const name of FIELDS) if (values[name]) query.set(name, values[name]);
  const search = query.size ? `?${query}` : '';
  history.replaceState(null, '', `${location.pathname}${search}${location.hash}`);
}

function card(image) {
  const name = image.source?.fileName || image.id;
  const thumb = image.derivatives?.thumbnail
    ? h('img', { class: 'gallery-thumb', alt: '', loading: 'lazy', width: image.derivatives.thumbnail.width, height: image.derivatives.thumbnail.height })
    : h('span', { class: 'gallery-thumb placeholder', 'aria-hidden': 'true' }, image.status === 'failed' ? 'No thumbnail' : 'Pending');
  if (image.derivatives?.thumbnail) showImage(thumb, imagePath(image.id, 'thumbnail')).catch(() => thumb.removeAttribute('src'));
  const format = image.metadata ? image.metadata.format.toUpperCase() : image.source?.contentType ?? '';
  return h(
    'li',
    { class: 'gallery-item', 'data-id': image.id, 'data-status': image.status },
    h(
      'button',
      { type: 'button', 'aria-haspopup': 'dialog', onclick: () => openDetail(image.id) },
      thumb,
      h('span', { class: 'gallery-name' }, name),
      h('span', {}, statusBadge(image.status)),
      h('span', { class: 'gallery-meta' }, [format, formatBytes(image.metadata?.bytes ?? image.source?.bytes)].filter(Boolean).join(' · ')),
      h('span', { class: 'gallery-meta' }, formatDate(image.createdAt)),
    ),
  );
}

async function load() {
  const values = filterValues();
  rememberFilters(values);
  error.hidden = true;
  status.textContent = 'Loading…';
  previous.disabled = true;
  next.disabled = true;
  gallery.setAttribute('aria-busy', 'true');
  try {
    const { body } = await api(`images?${apiQuery(values, tokens[page])}`);
    gallery.replaceChildren(...body.items.map(card));
    tokens[page + 1] = body.continuationToken;
    tokens = tokens.slice(0, page + 2);
    previous.disabled = page === 0;
    next.disabled = !body.continuationToken;
    pageLabel.textContent = `Page ${page + 1}`;
    const filtered = FIELDS.some((name) => values[name]);
    status.textContent = body.items.length
      ? `Showing ${body.items.length} image${body.items.length === 1 ? '' : 's'} on page ${page + 1}${filtered ? ' (filtered)' : ''}.`
      : page === 0
        ? `No images${filtered ? ' match these filters' : ' yet'}.`
        : 'No more images.';
  } catch (caught) {
    if (caught instanceof ApiError && caught.type === 'invalid-continuation-token' && page > 0) {
      // The token outlived its key (a deployment) or its listing: start again at the first page.
      tokens = [undefined];
      page = 0;
      await load();
      status.textContent = `The listing had to start again: ${status.textContent}`;
      return;
    }
    gallery.replaceChildren();
    status.textContent = '';
    showError(caught.message);
  } finally {
    gallery.removeAttribute('aria-busy');
  }
}

async function openDetail(id) {
  detailTitle.textContent = 'Image';
  detailBody.replaceChildren(h('p', {}, 'Loading…'));
  if (!dialog.open) dialog.showModal();
  history.replaceState(null, '', `${location.pathname}${location.search}#${encodeURIComponent(id)}`);
  try {
    const { body: image } = await api(imagePath(id));
    detailTitle.textContent = image.source?.fileName || image.id;
    const view = resultView(image, { headingLevel: 3 });
    view.querySelector('.result-title')?.remove(); // the dialog title names it already
    const children = [view];
    if (image.derivatives?.preview) {
      const preview = h('img', { class: 'preview', alt: `Preview of ${image.source?.fileName || image.id}`, width: image.derivatives.preview.width, height: image.derivatives.preview.height });
      showImage(preview, imagePath(image.id, 'preview')).catch(() => preview.remove());
      children.push(h('h3', {}, 'Preview'), h('figure', { class: 'result-figure' }, preview));
    }
    detailBody.replaceChildren(...children);
  } catch (caught) {
    detailBody.replaceChildren(h('p', { class: 'error', role: 'alert' }, caught.message));
  }
}

dialog.addEventListener('close', () => history.replaceState(null, '', `${location.pathname}${location.search}`));
document.getElementById('close-detail').addEventListener('click', () => dialog.close());
// A click on the backdrop (outside the dialog's box) closes it too.
dialog.addEventListener('click', (event) => {
  if (event.target === dialog) dialog.close();
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  tokens = [undefined];
  page = 0;
  load();
});
form.addEventListener('reset', () => {
  // After the browser has cleared the fields.
  setTimeout(() => form.requestSubmit(), 0);
});
previous.addEventListener('click', () => {
  page = Math.max(0, page - 1);
  load();
});
next.addEventListener('click', () => {
  page += 1;
  load();
});

// Filters from the address (a reload or a shared link), then the first page; #<id> opens that image.
const initial = new URLSearchParams(location.search);
for (const name of FIELDS) {
  const field = form.elements.namedItem(name);
  if (field && initial.get(name)) field.value = initial.get(name);
}
load();
const linked = decodeURIComponent(location.hash.slice(1));
if (linked) openDetail(linked);
