// The store stays true when no conex process is around: conmon runs `conex container cleanup` as its exit command,
// which records the exit code (read here straight from SQLite, read-only) and removes --rm containers.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { spawn } from 'node:child_process'
import { makeStore, conmonsFor, mountsUnder, CONEX_BIN, type Store } from '../helpers'

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

test('run --rm (attached) reports the exit code also when the exit command recorded it and removed the container first', async () => {
  // The race, made certain: the attached `conex run` is stopped (SIGSTOP) while its container runs, conmon's exit
  // command records the exit and removes the --rm container, then `conex run` goes on. Before the fix it exited 255
  // (the record was gone and so was the exit file); the exit code is now read from the container's died event.
  const child = spawn(CONEX_BIN, [...s.flags, 'run', '--rm', 'busybox', 'sh', '-c', 'sleep 1; exit 3'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  child.stdout.resume()
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
  const pidOf = (): number => {
    const db = new Database(join(s.root, 'conex.db'), { readonly: true, fileMustExist: true })
    try { return (db.prepare('SELECT pid FROM containers').get() as { pid: number } | undefined)?.pid ?? 0 } finally { db.close() }
  }
  // Stopped only once its last write before the exit is in: the container's `start` event, written right after the
  // pid. Stopped inside that write, it would hold the store's write lock, and the exit command would wait for it
  // (what this test is about is the race on the record, not a writer frozen in a transaction).
  const startEvents = (): number => {
    const db = new Database(join(s.root, 'conex.db'), { readonly: true, fileMustExist: true })
    try { return (db.prepare("SELECT count(*) AS n FROM events WHERE type = 'container' AND action = 'start' AND actor_id IN (SELECT id FROM containers)").get() as { n: number }).n } finally { db.close() }
  }
  const end = Date.now() + 20_000
  while (Date.now() < end && (!existsSync(join(s.root, 'conex.db')) || pidOf() === 0 || startEvents() === 0)) await sleep(20)
  assert.ok(pidOf() > 0, 'the container runs')
  assert.equal(startEvents(), 1, 'its start event is written')
  child.kill('SIGSTOP')
  try {
    while (Date.now() < end && rows().length > 0) await sleep(100)
    assert.deepEqual(rows(), [], 'the exit command removed the container while `conex run` was stopped')
  } finally { child.kill('SIGCONT') }
  assert.equal(await closed, 3, stderr)
  assert.equal(stderr, '')
})
