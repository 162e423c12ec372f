/* global document, fetch */
// The API reference: renders the app's own OpenAPI document (GET /api/openapi.json, anonymous) with no library, so
// it works without internet access. Every operation with its parameters, request body, responses and problem types,
// then the named schemas.
import { apiUrl, h, markCurrentPage } from './common.js';

markCurrentPage();

const status = document.getElementById('api-status');
const contents = document.getElementById('api-contents');
const operationsRoot = document.getElementById('api-operations');
const schemasRoot = document.getElementById('api-schemas');
const PROBLEM_PREFIX = 'urn:image-pipeline:problem:';

const refName = (ref) => ref.split('/').pop();
const anchor = (kind, name) => `${kind}-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** A schema in a few words: its type, format, allowed values and bounds; named schemas link to their section. */
function typeOf(schema) {
  if (!schema) return 'any';
  if (schema.$ref) return h('a', { href: `#${anchor('schema', refName(schema.$ref))}` }, refName(schema.$ref));
  if (schema.anyOf || schema.oneOf) return joined((schema.anyOf ?? schema.oneOf).map(typeOf), ' or ');
  if (schema.allOf) return joined(schema.allOf.map(typeOf), ' and ');
  if (schema.enum) return joined(schema.enum.map((value) => h('code', {}, JSON.stringify(value))), ' | ');
  if (schema.const !== undefined) return h('code', {}, JSON.stringify(schema.const));
  const type = [schema.type].flat().filter(Boolean).join(' or ') || 'object';
  if (type === 'array') return h('span', {}, 'array of ', typeOf(schema.items));
  const bounds = [
    schema.format,
    schema.minimum !== undefined && `≥ ${schema.minimum}`,
    schema.maximum !== undefined && `≤ ${schema.maximum}`,
    schema.maxItems !== undefined && `at most ${schema.maxItems}`,
    schema.pattern && `pattern ${schema.pattern}`,
  ].filter(Boolean);
  return `${type}${bounds.length ? ` (${bounds.join(', ')})` : ''}`;
}

function joined(parts, separator) {
  const span = h('span');
  parts.forEach((part, i) => span.append(...(i ? [separator] : []), part));
  return span;
}

/** An object schema's properties as a table: name, type, required, description. */
function propertiesTable(schema, caption) {
  const properties = Object.entries(schema.properties ?? {});
  const required = new Set(schema.required ?? []);
  const rows = properties.map(([name, property]) =>
    h('tr', {}, h('th', { scope: 'row' }, h('code', {}, name)), h('td', {}, typeOf(property)), h('td', {}, required.has(name) ? 'yes' : 'no'), h('td', {}, property.description ?? '')),
  );
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    rows.push(h('tr', {}, h('th', { scope: 'row' }, 'any other name'), h('td', {}, typeOf(schema.additionalProperties)), h('td', {}, 'no'), h('td', {}, schema.additionalProperties.description ?? '')));
  }
  if (!rows.length) return h('p', {}, typeOf(schema));
  return h(
    'div',
    { class: 'table-wrap' },
    h('table', {}, h('caption', { class: 'visually-hidden' }, caption), h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Required'), h('th', { scope: 'col' }, 'Description'))), h('tbody', {}, rows)),
  );
}

function parametersTable(parameters, caption) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'In'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Required'), h('th', { scope: 'col' }, 'Description'))),
      h('tbody', {}, parameters.map((p) => h('tr', {}, h('th', { scope: 'row' }, h('code', {}, p.name)), h('td', {}, p.in), h('td', {}, typeOf(p.schema)), h('td', {}, p.required ? 'yes' : 'no'), h('td', {}, p.description ?? p.schema?.description ?? '')))),
    ),
  );
}

/** One response: its status, what it means, its content types and schema, and the problem types it may carry. */
function responseItem(code, response) {
  const item = h('li', { class: 'api-response' }, h('strong', {}, code), ' ');
  const content = Object.entries(response.content ?? {});
  const problemTypes = content.flatMap(([, media]) => media.schema?.properties?.type?.enum ?? []).filter((type) => String(type).startsWith(PROBLEM_PREFIX));
  if (problemTypes.length) {
    item.append('application/problem+json, type:');
    item.append(h('ul', {}, problemTypes.map((type) => h('li', {}, h('code', {}, type)))));
    item.append(h('p', { class: 'hint' }, response.description));
    return item;
  }
  item.append(response.description);
  for (const [type, media] of content) item.append(h('p', { class: 'hint' }, h('code', {}, type), media.schema ? [': ', typeOf(media.schema)] : []));
  return item;
}

function operationSection(path, method, operation) {
  const id = anchor('op', operation.operationId);
  const title = `${method.toUpperCase()} /api${path}`;
  const section = h(
    'section',
    { class: 'card api-operation', id, 'aria-labelledby': `${id}-title` },
    h('h3', { id: `${id}-title` }, h('code', {}, title)),
    h('p', {}, h('strong', {}, operation.summary), operation.security?.length === 0 ? ' (anonymous)' : ' (function key in Azure)'),
  );
  if (operation.description) section.append(h('p', {}, operation.description));
  if (operation.parameters?.length) section.append(h('h4', {}, 'Parameters'), parametersTable(operation.parameters, `Parameters of ${title}`));
  if (operation.requestBody) {
    section.append(h('h4', {}, 'Request body'), h('p', {}, operation.requestBody.description ?? ''));
    section.append(h('ul', {}, Object.entries(operation.requestBody.content).map(([type, media]) => h('li', {}, h('code', {}, type), ': ', typeOf(media.schema), media.schema?.description ? ` — ${media.schema.description}` : ''))));
  }
  section.append(h('h4', {}, 'Responses'), h('ul', { class: 'api-responses' }, Object.entries(operation.responses).map(([code, response]) => responseItem(code, response))));
  return section;
}

async function main() {
  let spec;
  try {
    const response = await fetch(apiUrl('openapi.json'));
    if (!response.ok) throw new Error(`GET /api/openapi.json answered ${response.status}`);
    spec = await response.json();
  } catch (error) {
    status.textContent = `The OpenAPI document could not be loaded: ${error.message}`;
    status.classList.add('error');
    return;
  }
  document.getElementById('api-intro').replaceChildren(
    `${spec.info.title}, version ${spec.info.version}: ${spec.info.description} Server: `,
    h('code', {}, spec.servers?.[0]?.url ?? '/api'),
    '. The document itself: ',
    h('a', { href: apiUrl('openapi.json') }, 'openapi.json'),
    '.',
  );
  const byTag = new Map();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const tag = operation.tags?.[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), { path, method, operation }]);
    }
  }
  let count = 0;
  for (const [tag, operations] of byTag) {
    const tagId = anchor('tag', tag);
    operationsRoot.append(h('h2', { id: tagId }, tag[0].toUpperCase() + tag.slice(1)));
    contents.append(h('h3', {}, tag), h('ul', {}, operations.map(({ path, method, operation }) => h('li', {}, h('a', { href: `#${anchor('op', operation.operationId)}` }, h('code', {}, `${method.toUpperCase()} /api${path}`)), ` ${operation.summary}`))));
    for (const { path, method, operation } of operations) operationsRoot.append(operationSection(path, method, operation));
    count += operations.length;
  }
  for (const [name, schema] of Object.entries(spec.components?.schemas ?? {})) {
    const id = anchor('schema', name);
    schemasRoot.append(h('section', { class: 'card', id, 'aria-labelledby': `${id}-title` }, h('h3', { id: `${id}-title` }, name), schema.description ? h('p', {}, schema.description) : null, propertiesTable(schema, `Properties of ${name}`)));
  }
  contents.hidden = false;
  schemasRoot.hidden = false;
  status.textContent = `${count} operations.`;
}

main();
