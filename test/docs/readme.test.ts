import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/lib/api/routes';
import { APP_SETTINGS } from '../../src/lib/config';
import { PROBLEM_TYPES } from '../../src/lib/problem';

const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');

describe('README', () => {
  it('documents every setting the code reads, with its default', () => {
    for (const [name, setting] of Object.entries(APP_SETTINGS)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      expect(row, `configuration table row for ${name}`).toBeDefined();
      const fallback = (setting as { default?: string }).default;
      if (fallback) expect(row).toContain(`\`${fallback}\``);
    }
  });

  it('documents every HTTP route', () => {
    for (const route of ROUTES) {
      const path = `/api/${route.route}`;
      const documented = readme.includes(`${route.method} ${path}`) || (route.route.endsWith('{derivative}') && readme.includes(`${route.method} ${path.replace('{derivative}', 'thumbnail')}`));
      expect(documented, `${route.method} ${path} in the README`).toBe(true);
    }
  });

  it('lists every problem type with its status, and nothing else', () => {
    const section = readme.slice(readme.indexOf('## Problem types'), readme.indexOf('\n## ', readme.indexOf('## Problem types') + 1));
    const rows = section.split('\n').filter((line) => /^\| `[a-z-]+` \| \d{3} \|/.test(line));
    expect(rows.map((row) => row.split(' | ').slice(0, 2).join(' | '))).toEqual(
      Object.entries(PROBLEM_TYPES).map(([name, { status }]) => `| \`${name}\` | ${status}`),
    );
    expect(section).toContain('urn:image-pipeline:problem:<name>');
  });
});
