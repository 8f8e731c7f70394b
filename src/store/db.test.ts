// lazyStatements: each statement prepared on first use, once, with its tuning.
// writeTx: durable (synchronous=FULL) by default; `durable: false` commits with synchronous=NORMAL for that one
// transaction and always puts FULL back, also when the transaction throws or is nested in another.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import Database from 'better-sqlite3'
import { openDb, writeTx, lazyStatements } from './db'

test('writeTx durable:false commits (seen by another connection), rolls back on throw, and leaves synchronous=FULL', () => {
  const dir = mkdtempSync('/tmp/conex-db-test-')
  try {
    const db = openDb(dir)
    const other = new Database(`${dir}/conex.db`, { readonly: true })
    db.exec('CREATE TABLE t (v TEXT)')
    const sync = (): number => db.pragma('synchronous', { simple: true }) as number
    assert.equal(sync(), 2, 'FULL from the start')
    writeTx(db, () => db.prepare('INSERT INTO t VALUES (?)').run('light'), { durable: false })
    assert.equal(sync(), 2)
    assert.throws(() => writeTx(db, () => { db.prepare('INSERT INTO t VALUES (?)').run('lost'); throw new Error('boom') }, { durable: false }), /boom/)
    assert.equal(sync(), 2)
    writeTx(db, () => {
      db.prepare('INSERT INTO t VALUES (?)').run('outer')
      writeTx(db, () => db.prepare('INSERT INTO t VALUES (?)').run('inner'), { durable: false })
    })
    assert.equal(sync(), 2)
    assert.deepEqual(other.prepare('SELECT v FROM t ORDER BY rowid').pluck().all(), ['light', 'outer', 'inner'])
    other.close()
    db.close()
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test('lazyStatements prepares a statement on its first use, once, tuned; one never used is never prepared', () => {
  const dir = mkdtempSync('/tmp/conex-db-test-')
  try {
    const db = openDb(dir)
    db.exec("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a'), ('b')")
    const q = lazyStatements(db, { vs: 'SELECT v FROM t ORDER BY v', broken: 'SELEC nothing' }, { vs: (st) => st.pluck() })
    assert.deepEqual(q.vs.all(), ['a', 'b'])
    assert.equal(q.vs, q.vs, 'the same statement every time')
    assert.throws(() => q.broken, /syntax error/)
    db.close()
  } finally { rmSync(dir, { recursive: true, force: true }) }
})
