import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { checkName, type BackupTarget } from './target';

/**
 * Backups in a folder. Files are readable by this user only (they hold personal data until pruned) and written to a
 * temporary name first, then renamed, so a crash never leaves half a file under a real name.
 */
export class FolderTarget implements BackupTarget {
  readonly location: string;

  constructor(folder: string) {
    this.location = resolve(folder);
  }

  async list(): Promise<string[]> {
    const names: string[] = [];
    const walk = async (dir: string) => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else names.push(relative(this.location, path).split(sep).join('/'));
      }
    };
    await walk(this.location);
    return names.sort();
  }

  async read(name: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async write(name: string, bytes: Buffer): Promise<void> {
    const path = this.path(name);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const temporary = join(dirname(path), `.${name.split('/').at(-1)}.${process.pid}.tmp`);
    await writeFile(temporary, bytes, { mode: 0o600 });
    await rename(temporary, path);
  }

  async remove(name: string): Promise<void> {
    const path = this.path(name);
    await rm(path, { force: true });
    // A backup's folder goes with its last file.
    await rmdir(dirname(path)).catch(() => undefined);
  }

  private path(name: string): string {
    return join(this.location, ...checkName(name).split('/'));
  }
}
