import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ServerCommand, ServerMode, ServerStats } from './server-child';

export interface ServerProcess {
  /** The host's API URL, or Azurite's connection string. */
  url: string;
  pid: number;
  stats(): Promise<ServerStats>;
  /** Starts the child's peak RSS (from its current RSS) and its event-loop delay figures again. */
  reset(): Promise<void>;
  /** Resolves with the first log line (level: message) matching the pattern, logged before or after the call. */
  waitForLog(pattern: string): Promise<string>;
  stop(): Promise<void>;
}

type Command = ServerCommand extends infer C ? (C extends ServerCommand ? Omit<C, 'id'> : never) : never;

/** Starts bench/server-child.js and talks to it over the IPC channel. */
export async function startServerProcess(mode: ServerMode, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child: ChildProcess = fork(path.join(__dirname, 'server-child.js'), [mode, JSON.stringify(env)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, (result: unknown) => void>();
  let next = 1;
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`the ${mode} server process exited (${code})`))));
  exited.catch(() => undefined);
  child.on('message', (message: { id: number; result: unknown }) => {
    pending.get(message.id)?.(message.result);
    pending.delete(message.id);
  });
  const call = <T>(command: Command): Promise<T> => {
    const id = next++;
    const answer = new Promise<T>((resolve) => pending.set(id, resolve as (result: unknown) => void));
    child.send({ ...command, id });
    return Promise.race([answer, exited]);
  };
  const url = await Promise.race([new Promise<string>((resolve) => pending.set(0, resolve as (result: unknown) => void)), exited]);
  return {
    url,
    pid: child.pid!,
    stats: () => call<ServerStats>({ cmd: 'stats' }),
    reset: () => call<void>({ cmd: 'reset' }),
    waitForLog: (pattern) => call<string>({ cmd: 'waitForLog', pattern }),
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      await call({ cmd: 'stop' }).catch(() => undefined);
      await gone;
    },
  };
}
