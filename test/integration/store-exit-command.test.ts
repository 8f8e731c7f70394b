// The store stays true when no conex process is around: conmon runs `conex container cleanup` as its exit command,
// which records the exit code (read here straight from SQLite, read-only) and removes --rm containers.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { makeStore, conmonsFor, mountsUnder, type Store } from '../helpers'

let s: Store

before(() => { s = makeStore('exitcmd') })
after(async () => { await s.cleanup() })

// The containers table as another process sees it, without going through conex (no state sync on read).
function rows (): Array<{ id: string, state: string, exit_code: number }> {
  const db = new Database(join(s.root, 'conex.db'), { readonly: true, fileMustExist: true })
  try {
    return db.prepare('SELECT id, state, exit_code FROM containers ORDER BY created_at').all() as Array<{ id: string, state: string, exit_code: number }>
  } finally { db.close() }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

test('a detached container\'s exit code is recorded by conmon\'s exit command, with no conex call', async () => {
  const r = await s.conex(['run', '-d', 'busybox', 'sh', '-c', 'sleep 1; exit 7'])
  assert.equal(r.code, 0, r.stderr)
  const id = r.out.trim()
  assert.deepEqual(rows(), [{ id, state: 'running', exit_code: 0 }])
  // No conex command from here on: only conmon's exit command can change the row.
  const end = Date.now() + 10_000
  while (rows()[0].state === 'running' && Date.now() < end) await sleep(250)
  assert.deepEqual(rows(), [{ id, state: 'exited', exit_code: 7 }])
  // The exit command goes on to release the run (after recording the exit): no rootfs mount, no conmon.
  while ((mountsUnder(s.runroot).length > 0 || conmonsFor(s.root).length > 0) && Date.now() < end) await sleep(100)
  assert.deepEqual(mountsUnder(s.runroot), [])
  assert.deepEqual(conmonsFor(s.root), [])
  assert.equal((await s.conex(['rm', id])).code, 0)
})

test('run -d --rm: the container removes itself when it exits', async () => {
  const r = await s.conex(['run', '-d', '--rm', 'busybox', 'sh', '-c', 'exit 0'])
  assert.equal(r.code, 0, r.stderr)
  const id = r.out.trim()
  const end = Date.now() + 10_000
  while (rows().length > 0 && Date.now() < end) await sleep(250)
  assert.deepEqual(rows(), [])
  assert.equal(existsSync(join(s.runroot, 'containers', id)), false)
  assert.equal(existsSync(join(s.root, 'containers', id)), false)
})
