// Flex Consumption facts the deployment depends on: the Durable Functions guidance for Flex in host.json, and the
// always-ready arithmetic in infra/README.md, counted from the functions the app really registers.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordRegistrations, type Registration } from '../functions/functions-core';
import { bicepDir, infraDir, repoRoot } from './bicep-ast.js';

/** `hh:mm:ss` (a .NET TimeSpan as host.json writes it) in seconds. */
function timeSpanSeconds(value: string): number {
  const match = /^(\d{2}):(\d{2}):(\d{2})$/.exec(value);
  if (!match) throw new Error(`not a hh:mm:ss TimeSpan: ${value}`);
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
}

/**
 * Flex Consumption's per-function scaling groups (Microsoft's "Flex Consumption plan" page, per-function scaling):
 * all HTTP triggers scale together (`http`), as do all blob triggers (`blob`) and all Durable Functions triggers
 * (`durable`); every other function is a group of its own (`function:<name>`).
 */
function scalingGroup(registration: Registration): string {
  const trigger = Object.values(registration.metadata.bindings).find((b) => String(b.type).endsWith('Trigger'));
  const type = String(trigger?.type);
  if (type === 'httpTrigger') return 'http';
  if (type === 'blobTrigger') return 'blob';
  if (['orchestrationTrigger', 'activityTrigger', 'entityTrigger'].includes(type)) return 'durable';
  return `function:${registration.metadata.name}`;
}

const registrations = recordRegistrations();
let groups: string[];

beforeAll(async () => {
  const functionsDir = path.join(repoRoot, 'src', 'functions');
  for (const file of readdirSync(functionsDir).filter((f) => f.endsWith('.ts'))) await import(path.join(functionsDir, file));
  groups = [...new Set([...registrations.values()].map(scalingGroup))].sort();
});

describe('Durable Functions on Flex Consumption', () => {
  it('host.json polls the Durable queues at least every 10 seconds, and the durable group is always ready', () => {
    const host = JSON.parse(readFileSync(path.join(repoRoot, 'host.json'), 'utf8'));
    const interval = host.extensions.durableTask.storageProvider.maxQueuePollingInterval as string;
    expect(timeSpanSeconds(interval)).toBeGreaterThan(0);
    expect(timeSpanSeconds(interval)).toBeLessThanOrEqual(10);
    for (const file of ['main.parameters.json', 'main.parameters.prod.json']) {
      const params = JSON.parse(readFileSync(path.join(bicepDir, file), 'utf8')).parameters;
      expect(params.durableAlwaysReadyInstances.value, file).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('Node 22', () => {
  it('is the Flex runtime, the engines floor and the @types/node major', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    const site = readFileSync(path.join(bicepDir, 'app', 'function-app.bicep'), 'utf8');
    const runtime = /runtime: \{\s*name: 'node'\s*version: '(\d+)'\s*\}/.exec(site)?.[1];
    expect(runtime).toBe('22');
    expect(pkg.engines.node).toBe('>=22');
    expect(pkg.devDependencies['@types/node']).toMatch(/^\^22\./);
  });
});

describe('always-ready instances with zone redundancy (infra/README.md)', () => {
  it('finds the scaling groups of the registered functions', () => {
    expect(registrations.size).toBeGreaterThan(5);
    expect(groups).toEqual(expect.arrayContaining(['blob', 'durable', 'http']));
    expect(groups.filter((g) => g.startsWith('function:'))).toEqual(['function:ingestBatchRecords', 'function:maintenance']);
  });

  it('states the groups and bills two instances for each of them in the zone-redundant prod profile', () => {
    const readme = readFileSync(path.join(infraDir, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    const listed = /This app has (\d+) per-function scaling groups: ([^.]+)\./.exec(readme);
    expect(listed, 'infra/README.md lists the scaling groups').not.toBeNull();
    expect(Number(listed![1])).toBe(groups.length);
    expect([...listed![2].matchAll(/`([^`]+)`/g)].map((m) => m[1]).sort()).toEqual(groups);
    const billed = [...readme.matchAll(/\*\*(\d+) always-ready instances\*\*/g)].map((m) => Number(m[1]));
    expect(billed.length, 'infra/README.md states the billed count').toBeGreaterThan(0);
    for (const n of billed) expect(n).toBe(2 * groups.length);
    const prod = JSON.parse(readFileSync(path.join(bicepDir, 'main.parameters.prod.json'), 'utf8')).parameters;
    expect(prod.zoneRedundant.value).toBe(true);
  });
});

describe('the standby region', () => {
  it('switches off exactly the functions that start work on their own (Event Hubs, timer), by their registered names', () => {
    const source = readFileSync(path.join(bicepDir, 'app', 'function-app.bicep'), 'utf8');
    const switched = [...source.matchAll(/'AzureWebJobs\.(\w+)\.Disabled': standby \? 'true' : 'false'/g)].map((m) => m[1]).sort();
    const selfStarting = [...registrations.values()].filter((r) => scalingGroup(r).startsWith('function:')).map((r) => r.metadata.name).sort();
    expect(selfStarting).toEqual(['ingestBatchRecords', 'maintenance']);
    expect(switched).toEqual(selfStarting);
  });
});
