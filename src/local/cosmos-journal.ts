import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/*
 * @vercel/cosmosdb-server keeps everything in memory, in one shape at every level: an account's `databases`, each
 * database's `collections` and each collection's `documents` are containers that store resources (with their _rid,
 * _etag, _ts) through `_set` and remove them through `delete`. It ships no types for these internals.
 */
interface Resource {
  _rid: string;
  [property: string]: unknown;
}
interface Item {
  read(): Resource;
  collections?: Container;
  documents?: Container;
}
interface Container {
  _data: Map<string, Item>;
  _ridCount: number;
  _set(data: Resource): Resource;
  delete(idOrRid: string, partition?: unknown): void;
  replace(data: Resource, original: Resource): Resource;
  _item(keyPath: string, id: string, partition?: unknown): Item;
}
interface Account {
  databases: Container;
}

/** One journal line: a resource stored (`set`) or removed (`removed`, its _rid) in the container at `path`. */
interface Entry {
  /** The _rids leading to the container: [] databases, [db] collections, [db, collection] documents. */
  path: string[];
  set?: Resource;
  removed?: string;
  /** The container's resource counter after the change, so new _rids never repeat old ones. */
  count: number;
}

const accounts = new Map<number, Account>();
let capturing = false;

/**
 * Makes the stand-in hand over the account it creates when its server starts listening (keyed by port), by
 * subclassing the account class its server module instantiates.
 */
export function captureAccounts(): void {
  if (capturing) return;
  capturing = true;
  const module = require('@vercel/cosmosdb-server/lib/account') as { default: new (host: string, port: number) => Account };
  const Base = module.default;
  module.default = class extends Base {
    constructor(host: string, port: number) {
      super(host, port);
      accounts.set(port, this);
    }
  };
}

export function takeAccount(port: number): Account {
  const account = accounts.get(port);
  if (!account) throw new Error(`The Cosmos stand-in on port ${port} created no account.`);
  accounts.delete(port);
  return account;
}

const children = (item: Item) => item.collections ?? item.documents;

function containerAt(account: Account, path: string[]): Container {
  let container = account.databases;
  for (const rid of path) container = children(container._data.get(rid)!)!;
  return container;
}

/**
 * Keeps a stand-in's databases, collections and documents in `folder`: every change is appended to a journal
 * synchronously, before the stand-in answers the request, so a write it acknowledged survives a kill. On start the
 * journal is replayed into the empty account and rewritten as a snapshot of what is there; `compact` rewrites it so
 * at any time (the local host does after each retention sweep, so replaced versions of documents do not linger).
 */
export function persistAccount(account: Account, folder: string): { close(): void; compact(): void } {
  mkdirSync(folder, { recursive: true });
  const file = join(folder, 'journal.ndjson');
  for (const entry of readJournal(file)) {
    const container = containerAt(account, entry.path);
    if (entry.set) container._set(entry.set);
    else container.delete(entry.removed!);
    container._ridCount = Math.max(container._ridCount, entry.count);
  }

  // Synchronous from start to end, so no change can be appended to the old journal while the new one is written.
  const snapshot = (): number => {
    const lines: string[] = [];
    const walk = (container: Container, path: string[]) => {
      for (const [rid, item] of container._data) {
        lines.push(JSON.stringify({ path, set: item.read(), count: container._ridCount } satisfies Entry));
        const inner = children(item);
        if (inner) walk(inner, [...path, rid]);
      }
    };
    walk(account.databases, []);
    const fd = openSync(`${file}.tmp`, 'w');
    writeSync(fd, lines.map((line) => `${line}\n`).join(''));
    closeSync(fd);
    renameSync(`${file}.tmp`, file);
    return openSync(file, 'a');
  };
  let journal = snapshot();
  const append = (entry: Entry) => writeSync(journal, `${JSON.stringify(entry)}\n`);
  const watch = (container: Container, path: string[]) => {
    const set = container._set.bind(container);
    const remove = container.delete.bind(container);
    const replace = container.replace.bind(container);
    // A replace (and so an upsert or a patch) removes the resource, then stores the new one under the same _rid:
    // only the new one is journaled, so a kill between the two steps cannot lose the resource.
    let replacing = false;
    container.replace = (data, original) => {
      replacing = true;
      try {
        return replace(data, original);
      } finally {
        replacing = false;
      }
    };
    container._set = (data) => {
      const stored = set(data);
      append({ path, set: stored, count: container._ridCount });
      const inner = children(container._data.get(stored._rid)!);
      if (inner) watch(inner, [...path, stored._rid]);
      return stored;
    };
    container.delete = (idOrRid, partition) => {
      const { _rid } = container._item('/id', idOrRid, partition).read() ?? {};
      remove(idOrRid, partition);
      if (_rid && !replacing) append({ path, removed: _rid, count: container._ridCount });
    };
    for (const [rid, item] of container._data) {
      const inner = children(item);
      if (inner) watch(inner, [...path, rid]);
    }
  };
  watch(account.databases, []);
  return {
    close: () => closeSync(journal),
    compact: () => {
      const previous = journal;
      journal = snapshot();
      closeSync(previous);
    },
  };
}

/** The journal's entries; a torn last line (a kill in the middle of a write, never acknowledged) is left out. */
function readJournal(file: string): Entry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n').filter(Boolean);
  return lines.flatMap((line, i) => {
    try {
      return [JSON.parse(line) as Entry];
    } catch (error) {
      if (i === lines.length - 1) return [];
      throw error;
    }
  });
}
