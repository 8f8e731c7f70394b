// The embedded database: one SQLite file in WAL mode shared by every conex process (CLI and service) on a root.
// Writers take the lock up front (BEGIN IMMEDIATE) and wait for it (busy_timeout), so concurrent CLI processes queue
// instead of failing with "database is locked"; synchronous=FULL makes every committed change survive a crash.
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { MIGRATIONS } from './migrations'
import { loadSqliteAddon } from '../util/addon'

export type Db = Database.Database

const BUSY_TIMEOUT_MS = 60_000

// Opens (creating if needed) the database under `root` and brings its schema up to date.
export function openDb (root: string): Db {
  mkdirSync(root, { recursive: true, mode: 0o700 })
  // `timeout` is SQLite's busy timeout (PRAGMA busy_timeout reads it back).
  // nativeBinding takes the loaded addon too (lib/database.js), though its type names only a path.
  const db = new Database(join(root, 'conex.db'), { timeout: BUSY_TIMEOUT_MS, nativeBinding: loadSqliteAddon() as unknown as string })
  // journal_mode=WAL needs a write lock the first time only; later opens see it already set.
  if ((db.pragma('journal_mode', { simple: true }) as string) !== 'wal') db.pragma('journal_mode = WAL')
  // Both per connection; one exec() runs them without a prepared statement each.
  db.exec('PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON')
  migrate(db)
  return db
}

// Applies the migrations whose number is above PRAGMA user_version, each in its own immediate transaction.
export function migrate (db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current >= MIGRATIONS.length) return
  db.transaction(() => {
    // Re-read inside the lock: another process may have migrated meanwhile.
    const v = db.pragma('user_version', { simple: true }) as number
    for (let i = v; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i])
    db.pragma(`user_version = ${MIGRATIONS.length}`)
  }).immediate()
}

// Runs `fn` in a write transaction that holds the database lock from its start (no upgrade deadlocks). A durable
// transaction (the default) is on disk when it returns (synchronous=FULL: the WAL is fsynced at commit). With
// `durable: false` the commit skips that fsync (synchronous=NORMAL): the change still survives the crash of any
// process, and WAL keeps the file consistent, but a power loss or kernel crash may forget the last such commits
// (the next durable commit syncs them too). Exec session records use it: dockerd keeps them in memory only, and
// after a reboot no session they describe is running anyway; four fsyncs per exec were 2-5 ms of its latency.
export function writeTx<T> (db: Db, fn: () => T, o: { durable?: boolean } = {}): T {
  // Nested in another transaction (a savepoint), it commits with the outer one, at the outer one's safety level
  // (SQLite refuses to change it inside a transaction).
  if (o.durable !== false || db.inTransaction) return db.transaction(fn).immediate()
  const sync = syncPragmas(db)
  sync.normal.run()
  try {
    return db.transaction(fn).immediate()
  } finally {
    sync.full.run()
  }
}

const pragmas = new WeakMap<Db, { normal: Database.Statement, full: Database.Statement }>()
function syncPragmas (db: Db): { normal: Database.Statement, full: Database.Statement } {
  let p = pragmas.get(db)
  if (p === undefined) {
    p = { normal: db.prepare('PRAGMA synchronous = NORMAL'), full: db.prepare('PRAGMA synchronous = FULL') }
    pragmas.set(db, p)
  }
  return p
}

// The statements a store uses, each prepared on its first use: a CLI command uses a few of the ~30 the stores know,
// and preparing them all at open cost ~1 ms of every command. `tune` adjusts a statement once it is prepared
// (pluck, safeIntegers).
export function lazyStatements<K extends string> (db: Db, sql: Record<K, string>, tune: Partial<Record<K, (st: Database.Statement) => Database.Statement>> = {}): Record<K, Database.Statement> {
  const out = {} as Record<K, Database.Statement>
  for (const k of Object.keys(sql) as K[]) {
    Object.defineProperty(out, k, {
      configurable: true,
      enumerable: true,
      get: () => {
        const prepared = db.prepare(sql[k])
        const st = tune[k]?.(prepared) ?? prepared
        Object.defineProperty(out, k, { value: st, enumerable: true })
        return st
      },
    })
  }
  return out
}
