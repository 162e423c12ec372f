/**
 * Port for where backups are kept: a folder (on the on-premises backup server's disk) or a blob container. Names are
 * relative paths with `/` (`<backup id>/manifest.json`). FolderTarget, BlobContainerTarget and MemoryTarget (fault
 * injection) are held to one suite in test/contracts/backup-target.test.ts.
 */
export interface BackupTarget {
  /** Where it is, for messages. */
  readonly location: string;
  /** Every file name, in name order. */
  list(): Promise<string[]>;
  /** Undefined when there is no such file. */
  read(name: string): Promise<Buffer | undefined>;
  /** Creates or replaces the file whole: a reader sees the old bytes or the new ones, never a part. */
  write(name: string, bytes: Buffer): Promise<void>;
  /** Removes the file; nothing when it is not there. */
  remove(name: string): Promise<void>;
}

const NAME = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Names are ours, but checked anyway: no `.` or `..` segments, no absolute paths, nothing that escapes the target. */
export function checkName(name: string): string {
  if (!NAME.test(name) || name.split('/').some((segment) => segment === '.' || segment === '..')) throw new Error(`"${name}" is not a backup file name`);
  return name;
}
