// SQLite through better-sqlite3 (synchronous): WAL so readers never block the writer, BEGIN
// IMMEDIATE so a claim holds the write lock from its first read (two workers cannot both see the
// same job waiting), and a busy timeout so concurrent workers queue instead of failing.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StorageError } from './types.js';
import type { Row, SqlDriver, SqlTx } from './sql.js';

// One transaction at a time in this process, over all connections: a caller's awaits inside a
// transaction must not let another one start (a heartbeat timer firing mid-claim on the same
// connection would join it; on a second connection, its BEGIN IMMEDIATE would block this thread
// in SQLite's busy wait while the first transaction can never finish).
let queue: Promise<unknown> = Promise.resolve();

export function openSqliteDriver(file: string): SqlDriver {
  const dir = path.dirname(path.resolve(file));
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new StorageError(`SQLite storage ${file}: the folder ${dir} does not exist`);
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: 30000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  } catch (e) {
    throw new StorageError(`SQLite storage ${file}: ${(e as Error).message}`);
  }
  const q: SqlTx = {
    all(sql: string, params: unknown[] = []): Promise<Row[]> {
      const st = db.prepare(sql);
      const args = params.map((p) => (typeof p === 'boolean' ? Number(p) : p));
      return Promise.resolve(st.reader ? (st.all(...args) as Row[]) : (st.run(...args), []));
    },
  };
  return {
    dialect: 'sqlite',
    url: `sqlite:${file}`,
    tx<T>(fn: (q: SqlTx) => Promise<T>, write: boolean): Promise<T> {
      const run = async (): Promise<T> => {
        db.exec(write ? 'BEGIN IMMEDIATE' : 'BEGIN');
        try {
          const out = await fn(q);
          db.exec('COMMIT');
          return out;
        } catch (e) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw e;
        }
      };
      const p = queue.then(run, run);
      queue = p.catch(() => undefined);
      return p;
    },
    close(): Promise<void> {
      return queue.then(() => {
        db.close();
      });
    },
  };
}
