import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a running local host tells the CLI on this machine: where its API is and how to reach its stores. */
export interface LocalHostFile {
  pid: number;
  apiUrl: string;
  /** App settings as the app reads them (the embedded emulators' connection strings, or what was configured). */
  settings: Record<string, string>;
}

/** One file per port, so hosts on different ports (tests) do not overwrite each other's. */
export const localHostFilePath = (port: number) => join(tmpdir(), 'image-pipeline', `local-host-${port}.json`);

/** Written at start; readable by this user only, since configured connection strings may hold keys. */
export function writeLocalHostFile(port: number, file: LocalHostFile): () => void {
  const path = localHostFilePath(port);
  mkdirSync(join(tmpdir(), 'image-pipeline'), { recursive: true, mode: 0o700 });
  writeFileSync(path, JSON.stringify(file), { mode: 0o600 });
  return () => rmSync(path, { force: true });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The file of the local host running on `port`, or undefined when none runs there (a stale file is ignored). */
export function readLocalHostFile(port: number): LocalHostFile | undefined {
  let file: LocalHostFile;
  try {
    file = JSON.parse(readFileSync(localHostFilePath(port), 'utf8')) as LocalHostFile;
  } catch {
    return undefined;
  }
  return alive(file.pid) ? file : undefined;
}
