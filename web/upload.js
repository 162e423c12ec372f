/* global document, FormData */
import { api, ApiError, dropTarget, formatBytes, h, imagePath, markCurrentPage, resultView, upload, waitForImage } from './common.js';

markCurrentPage();

const input = document.getElementById('file');
const dropzone = document.getElementById('dropzone');
const progressSection = document.getElementById('progress-section');
const progress = document.getElementById('upload-progress');
const progressText = document.getElementById('progress-text');
const fileName = document.getElementById('file-name');
const status = document.getElementById('status');
const error = document.getElementById('error');
const result = document.getElementById('result');

let busy = false;

function say(message) {
  status.textContent = message;
}

function fail(message) {
  error.hidden = false;
  error.replaceChildren(h('strong', {}, 'Not accepted: '), message);
  say('');
}

function showResult(image) {
  result.replaceChildren(
    resultView(image),
    h('p', {}, h('a', { href: `results.html#${encodeURIComponent(image.id)}` }, 'Open in Results'), ' · ', h('a', { href: 'upload.html' }, 'Upload another')),
  );
}

async function send(file) {
  if (busy) return;
  busy = true;
  error.hidden = true;
  result.replaceChildren();
  progressSection.hidden = false;
  progress.value = 0;
  progressText.textContent = '0%';
  fileName.textContent = `${file.name} · ${formatBytes(file.size)}`;
  say(`Uploading ${file.name}…`);
  let lastAnnounced = 0;
  try {
    const form = new FormData();
    form.append('file', file, file.name);
    // wait=30: the API answers once the image is processed (200) or after 30 s with 202 and the queued result.
    const response = await upload('images?wait=30', form, (loaded, total) => {
      const percent = Math.round((loaded / total) * 100);
      progress.value = percent;
      progressText.textContent = `${percent}%`;
      // Announce in quarters, not every event, so screen readers are not flooded.
      if (percent >= lastAnnounced + 25) {
        lastAnnounced = percent - (percent % 25);
        say(`Uploading ${file.name}: ${percent}%`);
      }
    });
    progress.value = 100;
    progressText.textContent = '100%';
    let image = response.body;
    if (response.status === 202) {
      say(`${file.name} is uploaded and waiting to be processed…`);
      showResult(image);
      image = await waitForImage(image.id, { onUpdate: (latest) => say(`${file.name}: ${latest.status}…`) });
    }
    showResult(image);
    say(image.status === 'succeeded' ? `${file.name} is processed.` : `${file.name} could not be processed: ${image.error?.reason ?? 'unknown reason'}`);
  } catch (caught) {
    fail(caught instanceof ApiError ? caught.message : `Something went wrong: ${caught}`);
  } finally {
    busy = false;
    input.value = '';
  }
}

input.addEventListener('change', () => {
  if (input.files?.[0]) send(input.files[0]);
});

dropTarget(dropzone, (transfer) => {
  const files = [...(transfer?.files ?? [])];
  if (files.length > 1) fail('Drop one image at a time here; use the Batch page for many.');
  else if (files[0]) send(files[0]);
});

// Opened as upload.html#<id> (from another page): show that image's result.
const linked = decodeURIComponent(document.location.hash.slice(1));
if (linked) api(imagePath(linked)).then(({ body }) => showResult(body), (caught) => fail(caught.message));
