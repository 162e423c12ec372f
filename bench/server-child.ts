// A server for the benchmarks in a process of its own, so its CPU time and RSS are its own and the load generator
// (the bench process) is not part of them: the local host as `npm start` runs it, or Azurite alone.
// Usage (forked with an IPC channel): node dist/bench/server-child.js <host|azurite> '<env as JSON>'
import diagnostics from 'node:diagnostics_channel';
import { readdirSync, readFileSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from '../src/lib/logger';
import { startAzurite } from '../src/local/azurite';
import { startLocalHost } from '../src/local/host';
import { cpuMs, resetPeakRss, statusMb } from './measure';

export type ServerMode = 'host' | 'azurite';
export type ServerCommand = { id: number } & ({ cmd: 'stats' } | { cmd: 'reset' } | { cmd: 'waitForLog'; pattern: string } | { cmd: 'stop' });
export interface ServerStats {
  /** This process's CPU, every thread (the host's emulator thread too), plus any child processes it runs or ran. */
  cpuMs: number;
  /** Of cpuMs, the host's embedded emulators' thread (Azurite and the Cosmos stand-in); undefined without one. */
  emulatorsCpuMs?: number;
  rssMb: number;
  /** Since the last reset. */
  peakMb: number;
  /** How late the event loop ran its timers since the last reset: p99 and max, ms. */
  loopDelayMs: { p99: number; max: number };
  /** HTTP requests this process sent, by service (the storage and Cosmos endpoints of its connections). */
  requests: Record<string, number>;
}

// Linux's USER_HZ: /proc reports CPU times in these ticks.
const TICKS_PER_MS = 100 / 1000;

/** utime, stime, cutime and cstime of a process (or a thread: self/task/<tid>) from /proc/<pid>/stat, in ms (cutime/cstime: its waited-for children). */
function statCpuMs(pid: number | string): { own: number; exitedChildren: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return { own: (fields[11] + fields[12]) / TICKS_PER_MS, exitedChildren: (fields[13] + fields[14]) / TICKS_PER_MS };
}

const liveChildren = (pid: number | 'self'): number[] =>
  readdirSync(`/proc/${pid}/task`).flatMap((task) => {
    try {
      return readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });

/**
 * CPU of the processes this one started (none today: the emulators are a worker thread, which cpuMs() counts), so a
 * host that ran an emulator as a child process would still be measured whole: the live ones and their descendants,
 * and those that exited (cutime/cstime).
 */
function childProcessesCpuMs(): number {
  let total = statCpuMs('self').exitedChildren;
  const pending = liveChildren('self');
  while (pending.length) {
    const pid = pending.pop()!;
    try {
      const { own, exitedChildren } = statCpuMs(pid);
      total += own + exitedChildren;
      pending.push(...liveChildren(pid));
    } catch {
      // Exited meanwhile: its CPU moves to cutime once waited for.
    }
  }
  return total;
}

/** Requests this process sends, by host:port, counted where Node starts every HTTP client request. */
const requestsByTarget = new Map<string, number>();
diagnostics.subscribe('http.client.request.start', (message) => {
  const target = String((message as { request: ClientRequest }).request.getHeader('host'));
  requestsByTarget.set(target, (requestsByTarget.get(target) ?? 0) + 1);
});

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

/** Log lines kept so a waiter can find one logged before it asked. */
const lines: string[] = [];
const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
const record = (level: string) => (message: string) => {
  const line = `${level}: ${message}`;
  lines.push(line);
  if (lines.length > 10_000) lines.shift();
  for (const waiter of [...waiters]) {
    if (waiter.pattern.test(line)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  }
  if (level === 'error') console.error(message);
};
const log: Logger = { info: record('info'), warn: record('warn'), error: record('error') };

const endpointOf = (connectionString: string | undefined, key: string) => connectionString && new RegExp(`${key}=https?://([^/;]+)`, 'i').exec(connectionString)?.[1];

async function main(): Promise<void> {
  const [mode, envJson] = process.argv.slice(2) as [ServerMode, string];
  let url: string;
  let stop: () => Promise<void>;
  let services: Record<string, string | undefined> = {};
  let emulatorsThread: number | undefined;
  if (mode === 'host') {
    const host = await startLocalHost({ PORT: '0', ...(JSON.parse(envJson ?? '{}') as Record<string, string>) }, log);
    url = host.apiUrl;
    stop = host.stop;
    emulatorsThread = host.emulatorsForTests?.osThreadId;
    const { storage, cosmos } = host.services.config;
    services = {
      blob: storage?.kind === 'connectionString' ? endpointOf(storage.value, 'BlobEndpoint') : undefined,
      cosmos: cosmos?.kind === 'connectionString' ? endpointOf(cosmos.value, 'AccountEndpoint') : undefined,
    };
  } else {
    const azurite = await startAzurite();
    url = azurite.connectionString;
    stop = azurite.stop;
  }
  process.on('message', async (message: ServerCommand) => {
    const reply = (result: unknown) => process.send!({ id: message.id, result });
    switch (message.cmd) {
      case 'stats': {
        const requests: Record<string, number> = {};
        for (const [target, count] of requestsByTarget) {
          const name = Object.entries(services).find(([, endpoint]) => endpoint === target)?.[0] ?? 'other';
          requests[name] = (requests[name] ?? 0) + count;
        }
        const loopDelayMs = { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
        const emulatorsCpuMs = emulatorsThread === undefined ? undefined : statCpuMs(`self/task/${emulatorsThread}`).own;
        return reply({ cpuMs: cpuMs() + childProcessesCpuMs(), emulatorsCpuMs, rssMb: statusMb('VmRSS'), peakMb: statusMb('VmHWM'), loopDelayMs, requests } satisfies ServerStats);
      }
      case 'reset':
        resetPeakRss();
        loopDelay.reset();
        return reply(true);
      case 'waitForLog': {
        const pattern = new RegExp(message.pattern);
        const found = lines.find((line) => pattern.test(line));
        return reply(found ?? (await new Promise<string>((resolve) => waiters.push({ pattern, resolve }))));
      }
      case 'stop':
        await stop();
        return process.send!({ id: message.id, result: true }, () => process.exit(0));
    }
  });
  process.send!({ id: 0, result: url });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
