/* global document, location, history, FormData, URLSearchParams, setTimeout */
import { api, barChart, formatBytes, formatMs, formatPercent, h, markCurrentPage } from './common.js';

markCurrentPage();

const $ = (id) => document.getElementById(id);
const form = $('range');
const status = $('status');
const error = $('error');
const section = $('insights');
const kpis = $('kpis');
const charts = $('charts');

const DAY_MS = 86_400_000;
const addDays = (day, n) => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

const count = (label, value, name) => h('li', { 'data-kpi': name }, h('span', { class: 'count' }, value), label);

/** A bucket as text: "100-200 ms", "≥ 10 s". */
const range = (bucket, format) => (bucket ? (bucket.to === null ? `≥ ${format(bucket.from)}` : `${format(bucket.from)}–${format(bucket.to)}`) : '–');
const histogram = (title, buckets, format) => barChart(title, buckets.map((b) => [range(b, format), b.count]));
const decimal = (n) => String(Math.round(n * 100) / 100);

function render(stats) {
  const { succeeded, failed } = stats.byStatus;
  kpis.replaceChildren(
    count('images', stats.images, 'images'),
    count('processed', succeeded, 'succeeded'),
    count('failed', failed, 'failed'),
    count('success rate', stats.images ? formatPercent(succeeded / stats.images) : '–', 'success-rate'),
    count('near-duplicates', `${stats.duplicates.images} (${formatPercent(stats.duplicates.rate)})`, 'duplicates'),
    count('median processing', range(stats.processingMs.p50, formatMs), 'p50'),
    count('95th percentile', range(stats.processingMs.p95, formatMs), 'p95'),
  );
  const formats = Object.entries(stats.byFormat).sort((a, b) => b[1] - a[1]).map(([name, n]) => [name.toUpperCase(), n]);
  charts.replaceChildren(
    barChart('Images per day', stats.byDay.map((d) => [d.day, d.succeeded + d.failed])),
    barChart('Formats (processed images)', formats),
    histogram('Processing time per image', stats.processingMs.histogram, formatMs),
    histogram('File sizes', stats.histograms.bytes, formatBytes),
    histogram('Megapixels', stats.histograms.megapixels, decimal),
    histogram('Sharpness (variance of the Laplacian)', stats.histograms.sharpness, decimal),
    histogram('Brightness (mean luma)', stats.histograms.brightness, decimal),
    barChart('Top failure reasons', stats.topFailureReasons.map((f) => [f.category, f.count])),
  );
  section.hidden = false;
}

/** The form as the API's query: the page's "to" is inclusive, the API's exclusive. */
function query() {
  const params = new URLSearchParams();
  const { from, to, batch } = Object.fromEntries(new FormData(form));
  if (from) params.set('from', from);
  if (to) params.set('to', addDays(to, 1));
  if (batch.trim()) params.set('batch', batch.trim());
  return params;
}

async function show() {
  const params = query();
  error.hidden = true;
  status.textContent = 'Loading…';
  history.replaceState(history.state, '', `${location.pathname}${params.size ? `?${params}` : ''}`);
  try {
    const { body: stats } = await api(`stats${params.size ? `?${params}` : ''}`);
    render(stats);
    status.textContent = `${stats.images} images${stats.batch ? ` in batch ${stats.batch}` : ''}${stats.from ? ` from ${stats.from} to ${addDays(stats.to, -1)}` : ''}.`;
  } catch (failure) {
    section.hidden = true;
    status.textContent = '';
    error.textContent = failure.message;
    error.hidden = false;
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  show();
});
// The fields are cleared after the reset event: show the default range once they are.
form.addEventListener('reset', () => setTimeout(show));

// A shared address shows the same days: ?from=&to= (exclusive, as the API) fill the form.
const initial = new URLSearchParams(location.search);
if (initial.get('from')) $('range-from').value = initial.get('from');
if (initial.get('to')) $('range-to').value = addDays(initial.get('to'), -1);
if (initial.get('batch')) $('range-batch').value = initial.get('batch');
show();
