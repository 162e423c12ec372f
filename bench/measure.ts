// Helpers shared by the benchmarks: CPU time, medians and percentiles, tables, and the list of issue targets that
// `npm run bench` prints at the end.
import { readFileSync, writeFileSync } from 'node:fs';

/** CPU time this process has used (every thread: libvips and libuv workers too), in milliseconds. */
export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The p-th percentile (0-100), nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A text table: the first `textColumns` columns left-aligned, the rest (figures) right-aligned. */
export function table(header: string[], rows: string[][], textColumns = 2): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < textColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export interface Target {
  /** What is measured, e.g. "processImage / same-output floor, 12 MP JPEG". */
  what: string;
  measured: number;
  limit: number;
  /** Whether the measured figure must stay at most (the default) or at least the limit. */
  atLeast?: boolean;
  unit: string;
}

const targets: Target[] = [];

/** Records an issue target with its figure from this run; printed by printTargets() at the end. */
export function target(t: Target): void {
  targets.push(t);
  console.log(verdictLine(t));
}

const met = (t: Target) => (t.atLeast ? t.measured >= t.limit : t.measured <= t.limit);
const figure = (value: number, unit: string) => `${value.toFixed(value < 10 ? 2 : 1)}${unit}`;
const verdictLine = (t: Target) => `${met(t) ? 'MET ' : 'MISS'}  ${t.what}: ${figure(t.measured, t.unit)} (target ${t.atLeast ? '>=' : '<='} ${figure(t.limit, t.unit)})`;

export function printTargets(): void {
  console.log(`\n# Targets (issue 15): ${targets.filter(met).length} of ${targets.length} met`);
  for (const t of targets) console.log(verdictLine(t));
}

/** A figure from /proc/<pid>/status in MB (VmRSS: now, VmHWM: the peak); Linux only. */
export function statusMb(field: 'VmRSS' | 'VmHWM', pid: number | 'self' = 'self'): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(match[1]) / 1024;
}

/**
 * Peak RSS of this process in MB. getrusage's maxRSS (process.resourceUsage().maxRSS) carries over the parent's peak
 * through fork + exec, so a child of a big process would report the parent's figure; VmHWM belongs to this process.
 */
export const peakRssMb = () => statusMb('VmHWM');

/** Starts VmHWM again from the current RSS (Linux: writing 5 to clear_refs), so a peak belongs to what follows. */
export function resetPeakRss(): void {
  writeFileSync('/proc/self/clear_refs', '5');
}
