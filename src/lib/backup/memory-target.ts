import { checkName, type BackupTarget } from './target';

/** Backups in memory, for tests that inject faults around the target. */
export class MemoryTarget implements BackupTarget {
  readonly location = 'memory';
  readonly files = new Map<string, Buffer>();

  async list(): Promise<string[]> {
    return [...this.files.keys()].sort();
  }

  async read(name: string): Promise<Buffer | undefined> {
    const bytes = this.files.get(name);
    return bytes && Buffer.from(bytes);
  }

  async write(name: string, bytes: Buffer): Promise<void> {
    this.files.set(checkName(name), Buffer.from(bytes));
  }

  async remove(name: string): Promise<void> {
    this.files.delete(name);
  }
}
