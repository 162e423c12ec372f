/* global document, location, history, FormData, File */
import { api, barChart, dropTarget, isTransient, formatBytes, formatDate, formatMs, h, imagePath, markCurrentPage, showImage, sleep, statusBadge, upload } from './common.js';

markCurrentPage();

const $ = (id) => document.getElementById(id);
const filesInput = $('files');
const folderInput = $('folder');
const dropzone = $('dropzone');
const selection = $('selection');
const selectionSummary = $('selection-summary');
const tbody = $('file-table').querySelector('tbody');
const sendButton = $('send');
const clearButton = $('clear');
const overall = $('overall-progress');
const overallText = $('overall-text');
const status = $('status');
const error = $('error');
const batchSection = $('batch');
const batchMeta = $('batch-meta');
const batchProgress = $('batch-progress');
const batchProgressText = $('batch-progress-text');
const batchCounts = $('batch-counts');
const summarySection = $('summary');
const summaryBody = $('summary-body');

/** The files to send, in form order: item index i of the batch is files[i]. */
let files = [];
/** One table row per file: its progress element and result cell. */
let rows = [];
let sending = false;

const say = (message) => {
  status.textContent = message;
};
function showError(message) {
  error.hidden = false;
  error.replaceChildren(h('strong', {}, 'Not accepted: '), message);
}

const displayName = (file) => file.webkitRelativePath || file.name;
// Folders bring along .DS_Store, Thumbs.db and friends; hidden files are never meant as images.
const isHidden = (file) => displayName(file).split('/').some((part) => part.startsWith('.')) || /^(thumbs\.db|desktop\.ini)$/i.test(file.name);

function choose(picked, fromFolder) {
  if (sending) return;
  const usable = fromFolder ? picked.filter((file) => !isHidden(file)) : picked;
  files = [...files, ...usable];
  error.hidden = true;
  renderSelection();
  const skipped = picked.length - usable.length;
  say(`${files.length} file${files.length === 1 ? '' : 's'} chosen${skipped ? `; ${skipped} hidden file${skipped === 1 ? '' : 's'} left out` : ''}.`);
}

function renderSelection() {
  selection.hidden = files.length === 0;
  const total = files.reduce((sum, file) => sum + file.size, 0);
  selectionSummary.textContent = `${files.length} file${files.length === 1 ? '' : 's'}, ${formatBytes(total)} in all.`;
  overall.value = 0;
  overallText.textContent = '0%';
  rows = files.map((file, index) => {
    const progress = h('progress', { max: 100, value: 0, 'aria-label': `Sent of ${displayName(file)}` });
    const result = h('td', { class: 'result-cell' }, '–');
    const tr = h('tr', { 'data-index': index }, h('td', { class: 'num' }, index), h('td', { class: 'name-cell' }, displayName(file)), h('td', { class: 'num' }, formatBytes(file.size)), h('td', {}, progress), result);
    return { tr, progress, result };
  });
  tbody.replaceChildren(...rows.map((row) => row.tr));
  sendButton.disabled = files.length === 0;
}

/**
 * Per-file progress from the one request's progress: the form sends the files in order, so file i is done once
 * the bytes sent pass its end. Multipart headers are estimated and the whole scaled to the real total.
 */
function fileProgress(loaded, total) {
  const parts = files.map((file) => 160 + displayName(file).length + file.type.length + file.size);
  const estimated = parts.reduce((sum, n) => sum + n, 0) || 1;
  const sent = (loaded / total) * estimated;
  let start = 0;
  parts.forEach((size, i) => {
    rows[i].progress.value = Math.max(0, Math.min(100, Math.round(((sent - start) / size) * 100)));
    start += size;
  });
}

async function send() {
  if (sending || files.length === 0) return;
  sending = true;
  sendButton.disabled = true;
  clearButton.disabled = true;
  error.hidden = true;
  let announced = 0;
  say(`Sending ${files.length} files…`);
  try {
    const form = new FormData();
    for (const file of files) form.append('file', file, displayName(file));
    const response = await upload('batches', form, (loaded, total) => {
      const percent = Math.round((loaded / total) * 100);
      overall.value = percent;
      overallText.textContent = `${percent}%`;
      fileProgress(loaded, total);
      if (percent >= announced + 25) {
        announced = percent - (percent % 25);
        say(`Sending ${files.length} files: ${percent}%`);
      }
    });
    overall.value = 100;
    overallText.textContent = '100%';
    for (const row of rows) row.progress.value = 100;
    const batch = response.body;
    history.replaceState(null, '', `${location.pathname}${location.search}#${encodeURIComponent(batch.id)}`);
    say(`Batch of ${batch.itemCount} accepted; processing…`);
    await follow(batch.id);
  } catch (caught) {
    say('');
    showError(caught.message);
    sendButton.disabled = false;
  } finally {
    sending = false;
    clearButton.disabled = false;
  }
}

const count = (label, value, extra = {}) => h('li', extra, h('span', { class: 'count' }, value), label);

function renderProgress(batch) {
  batchSection.hidden = false;
  batchMeta.replaceChildren(
    statusBadge(batch.status),
    ' ',
    h('code', {}, batch.id),
    ` · created ${formatDate(batch.createdAt)} · `,
    h('a', { href: `results.html?batch=${encodeURIComponent(batch.id)}` }, 'See its images in Results'),
  );
  batchProgress.max = batch.itemCount;
  batchProgress.value = batch.processed ?? 0;
  batchProgressText.textContent = `${batch.processed ?? 0} of ${batch.itemCount}`;
  batchCounts.replaceChildren(
    count('files', batch.itemCount),
    count('received', batch.received ?? 0),
    count('succeeded', batch.succeeded ?? 0, { 'data-count': 'succeeded' }),
    count('failed', batch.failed ?? 0, { 'data-count': 'failed' }),
  );
}

/** Every item of the batch (index order), following the items API's pages. */
async function batchItems(id) {
  const items = [];
  let path = `batches/${encodeURIComponent(id)}/items?limit=1000`;
  while (path) {
    const { body } = await api(path);
    items.push(...body.items);
    path = body.continuationToken ? `batches/${encodeURIComponent(id)}/items?limit=1000&continuationToken=${encodeURIComponent(body.continuationToken)}` : undefined;
  }
  return items;
}

function renderItemResults(items) {
  for (const item of items) {
    const row = rows[item.index];
    if (!row) continue;
    row.result.replaceChildren(statusBadge(item.status), item.error ? h('span', { class: 'reason' }, ` ${item.error.reason}`) : '');
  }
}

/** Polls GET /api/batches/{id} until the batch has ended, then shows its summary (or why it failed). */
async function follow(id) {
  let last = '';
  let delay = 500;
  for (;;) {
    let batch;
    try {
      ({ body: batch } = await api(`batches/${encodeURIComponent(id)}`));
    } catch (caught) {
      if (!isTransient(caught)) throw caught;
      say('The service is busy for a moment; still following the batch…');
      await sleep((caught.retryAfterSeconds ?? 1) * 1000);
      continue;
    }
    renderProgress(batch);
    const line = `${batch.processed ?? 0} of ${batch.itemCount} processed, ${batch.failed ?? 0} failed`;
    if (line !== last) {
      say(`Batch ${batch.status}: ${line}.`);
      last = line;
      delay = 500;
    } else {
      delay = Math.min(delay * 1.5, 5000);
    }
    if (rows.length && batch.itemCount <= 200) renderItemResults(await batchItems(id));
    if ((batch.status === 'completed' || batch.status === 'incomplete') && batch.summary) {
      const items = await batchItems(id);
      if (rows.length) renderItemResults(items);
      renderSummary(batch, items);
      say(`Batch ${batch.status === 'completed' ? 'complete' : 'incomplete (items never received)'}: ${batch.summary.counts.succeeded} succeeded, ${batch.summary.counts.failed} failed.`);
      return;
    }
    if (batch.status === 'failed') {
      say(`Batch failed: ${batch.failure?.reason ?? 'no reason given'}`);
      return;
    }
    await sleep(delay);
  }
}

// ---- Summary ----------------------------------------------------------------------------------------------------

function thumbnailFigure(item, index) {
  const name = item?.source?.fileName || `#${index}`;
  const img = h('img', { alt: `Thumbnail of ${name}`, width: 128, height: 96, loading: 'lazy' });
  if (item?.derivatives?.thumbnail) showImage(img, imagePath(item.id, 'thumbnail')).catch(() => img.remove());
  return h('li', {}, h('figure', {}, img, h('figcaption', {}, `#${index} ${name}`)));
}

function renderSummary(batch, items) {
  const s = batch.summary;
  const byIndex = new Map(items.map((item) => [item.index, item]));
  const sections = [
    h(
      'ul',
      { class: 'counts', 'aria-label': 'Summary counts' },
      count('files', s.itemCount),
      count('succeeded', s.counts.succeeded, { 'data-count': 'summary-succeeded' }),
      count('failed', s.counts.failed, { 'data-count': 'summary-failed' }),
      s.counts.pending ? count('pending', s.counts.pending) : null,
      count('in all', formatBytes(s.sizes.totalBytes)),
      s.wallClockMs !== undefined ? count('wall clock', formatMs(s.wallClockMs)) : null,
      count('median per image', formatMs(s.durationsMs.p50)),
    ),
  ];

  const failures = h('section', { class: 'card', 'aria-labelledby': 'failures-heading' }, h('h3', { id: 'failures-heading' }, `Failures (${s.failures.length})`));
  if (s.failures.length) {
    failures.append(
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { id: 'failures' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col', class: 'num' }, '#'), h('th', { scope: 'col' }, 'File'), h('th', { scope: 'col' }, 'Reason'))),
          h('tbody', {}, s.failures.map((f) => h('tr', {}, h('td', { class: 'num' }, f.index), h('td', { class: 'name-cell' }, f.fileName ?? '–'), h('td', { class: 'reason' }, f.reason)))),
        ),
      ),
    );
  } else {
    failures.append(h('p', {}, 'None: every image was processed.'));
  }
  sections.push(failures);

  const duplicates = h('section', { class: 'card', 'aria-labelledby': 'duplicates-heading' }, h('h3', { id: 'duplicates-heading' }, `Duplicate groups (${s.duplicateGroups.length})`));
  if (s.duplicateGroups.length) {
    duplicates.append(h('p', { class: 'hint' }, 'Near-duplicates: perceptual hashes that differ in a few bits at most, so the same picture resized or re-encoded, whatever the file format.'));
    for (const group of s.duplicateGroups) {
      duplicates.append(
        h('h4', {}, `${group.items.length} images · hash `, h('code', {}, group.perceptualHash)),
        h('ul', { class: 'duplicate-group' }, group.items.map((index) => thumbnailFigure(byIndex.get(index), index))),
      );
    }
  } else {
    duplicates.append(h('p', {}, 'No duplicates.'));
  }
  sections.push(duplicates);

  const formats = Object.entries(s.formats).sort((a, b) => b[1] - a[1]).map(([name, n]) => [name.toUpperCase(), n]);
  sections.push(
    h(
      'section',
      { class: 'card charts', 'aria-labelledby': 'charts-heading' },
      h('h3', { id: 'charts-heading' }, 'Charts'),
      h(
        'div',
        { class: 'chart-grid' },
        barChart('Formats (processed images)', formats),
        barChart('Sizes (processed images)', Object.entries(s.sizes.buckets)),
        barChart('Processing time per image', [['median', s.durationsMs.p50], ['95th pct', s.durationsMs.p95], ['slowest', s.durationsMs.max]], formatMs),
      ),
    ),
  );
  summaryBody.replaceChildren(...sections);
  summarySection.hidden = false;
}

// ---- Wiring -----------------------------------------------------------------------------------------------------

filesInput.addEventListener('change', () => {
  choose([...filesInput.files], false);
  filesInput.value = '';
});
folderInput.addEventListener('change', () => {
  choose([...folderInput.files], true);
  folderInput.value = '';
});
sendButton.addEventListener('click', send);
clearButton.addEventListener('click', () => {
  files = [];
  renderSelection();
  batchSection.hidden = true;
  summarySection.hidden = true;
  error.hidden = true;
  say('Selection cleared.');
});

/** Files from a drop, walking into dropped folders (webkitGetAsEntry). */
async function dropped(dataTransfer) {
  const entries = [...(dataTransfer.items ?? [])].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length) return { files: [...dataTransfer.files], folder: false };
  const out = [];
  const read = (reader) => new Promise((resolve, reject) => reader.readEntries(resolve, reject));
  async function walk(entry) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      out.push(entry.fullPath.split('/').length > 2 ? new File([file], entry.fullPath.replace(/^\//, ''), { type: file.type }) : file);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (let batch = await read(reader); batch.length; batch = await read(reader)) for (const child of batch) await walk(child);
    }
  }
  for (const entry of entries) await walk(entry);
  return { files: out, folder: entries.some((entry) => entry.isDirectory) };
}

dropTarget(dropzone, (transfer) => {
  dropped(transfer).then(({ files: picked, folder }) => choose(picked, folder), (caught) => showError(`The dropped files cannot be read: ${caught}`));
});

// batch.html#<id>: follow that batch (a reload, or a link from an image's result).
const linked = decodeURIComponent(location.hash.slice(1));
if (linked) {
  say('Loading batch…');
  follow(linked).catch((caught) => {
    say('');
    showError(caught.message);
  });
}
