// A storage from its URL: `memory:` (this process only), `sqlite:PATH` or a plain file path
// (SQLite), `postgresql://user:pass@host:port/db` (also `postgres://`).
import path from 'node:path';
import { MemoryStorage } from './memory.js';
import { SqlStorage } from './sql.js';
import { openSqliteDriver } from './sqlite.js';
import { maskUrl, openPostgresDriver } from './postgres.js';
import { StorageError, type Storage } from './types.js';

export interface OpenOptions {
  /** PostgreSQL: give up connecting after this long (default 5 s). */
  connectTimeoutMs?: number;
}

/** The default store of a search in model folder DIR. */
export const defaultStorageUrl = (modelDir: string): string =>
  `sqlite:${path.join(modelDir, 'search.sqlite')}`;

export async function openStorage(url: string, o: OpenOptions = {}): Promise<Storage> {
  if (url === 'memory:' || url === 'memory') return new MemoryStorage();
  if (/^postgres(ql)?:\/\//i.test(url))
    return SqlStorage.open(await openPostgresDriver(url, o.connectTimeoutMs));
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1];
  if (scheme && scheme.toLowerCase() !== 'sqlite')
    throw new StorageError(
      `unknown storage URL scheme '${scheme}' in ${maskUrl(url)} (memory:, sqlite:PATH or postgresql://user:pass@host:port/db)`,
    );
  const file = url.replace(/^sqlite:(\/\/)?/i, '');
  return SqlStorage.open(openSqliteDriver(file));
}

/** Whether other processes can share the store (memory cannot). */
export const isShared = (url: string): boolean => !(url === 'memory:' || url === 'memory');
