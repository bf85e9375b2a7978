// PostgreSQL through `pg`: a small pool; each transaction on one client, claims with
// SELECT … FOR UPDATE SKIP LOCKED so concurrent workers take different jobs without waiting. A
// server that does not answer is one error naming host and port after connectTimeoutMs (no hang).
import pg from 'pg';
import { StorageError } from './types.js';
import type { Row, SqlDriver, SqlTx } from './sql.js';

/** `?` placeholders → `$1, $2, …` (the statements here have no `?` inside strings). */
function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

export async function openPostgresDriver(url: string, connectTimeoutMs = 5000): Promise<SqlDriver> {
  let where = url;
  try {
    const u = new URL(url);
    where = `${u.hostname || 'localhost'}:${u.port || '5432'}`;
  } catch {
    throw new StorageError(`PostgreSQL storage: '${maskUrl(url)}' is not a valid URL`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: 4,
    connectionTimeoutMillis: connectTimeoutMs,
    // keep idle clients: a worker queries every few seconds
    idleTimeoutMillis: 60000,
  });
  // an idle client losing its server must not crash the process; the next query reports it
  pool.on('error', () => undefined);
  const fail = (e: unknown): never => {
    const err = e as Error & { code?: string };
    const reason = /timeout/i.test(err.message)
      ? `no answer within ${connectTimeoutMs / 1000} s`
      : err.message;
    throw new StorageError(`PostgreSQL at ${where} (${maskUrl(url)}): ${reason}`);
  };
  // connect once now: a wrong URL is reported before any work starts
  try {
    const c = await pool.connect();
    c.release();
  } catch (e) {
    await pool.end().catch(() => undefined);
    fail(e);
  }
  return {
    dialect: 'postgres',
    url: maskUrl(url),
    async tx<T>(fn: (q: SqlTx) => Promise<T>): Promise<T> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        return fail(e);
      }
      const q: SqlTx = {
        async all(sql: string, params: unknown[] = []): Promise<Row[]> {
          return (await client.query(numbered(sql), params)).rows as Row[];
        },
      };
      try {
        await client.query('BEGIN');
        const out = await fn(q);
        await client.query('COMMIT');
        client.release();
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        client.release();
        throw e;
      }
    },
    close: () => pool.end(),
  };
}
