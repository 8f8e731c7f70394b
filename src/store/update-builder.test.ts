import { test } from 'node:test'
import assert from 'node:assert/strict'
import Database from 'better-sqlite3'
import { updater } from './update-builder'

interface T { n: number, flag: boolean, code: number | null, name: string }

const setup = (): { db: Database.Database, row: () => unknown } => {
  const db = new Database(':memory:')
  db.exec("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, the_flag INTEGER, exit_code INTEGER, name TEXT); INSERT INTO t VALUES ('a', 1, 0, 5, 'x'), ('b', 1, 0, 5, 'x')")
  return { db, row: () => db.prepare("SELECT * FROM t WHERE id = 'a'").get() }
}

test('updater sets the named keys\' columns of the one row, booleans as 1/0 and null as NULL', () => {
  const { db, row } = setup()
  const update = updater<Partial<T>>(db, 't', { n: 'n', flag: 'the_flag', code: 'exit_code', name: 'name' })
  update('a', { n: 7, flag: true })
  assert.deepEqual(row(), { id: 'a', n: 7, the_flag: 1, exit_code: 5, name: 'x' })
  update('a', { flag: false, code: null, name: 'y' })
  assert.deepEqual(row(), { id: 'a', n: 7, the_flag: 0, exit_code: null, name: 'y' })
  assert.deepEqual(db.prepare("SELECT * FROM t WHERE id = 'b'").get(), { id: 'b', n: 1, the_flag: 0, exit_code: 5, name: 'x' })
})

test('updater with no keys does nothing', () => {
  const { db, row } = setup()
  updater<Partial<T>>(db, 't', { n: 'n', flag: 'the_flag', code: 'exit_code', name: 'name' })('a', {})
  assert.deepEqual(row(), { id: 'a', n: 1, the_flag: 0, exit_code: 5, name: 'x' })
})
