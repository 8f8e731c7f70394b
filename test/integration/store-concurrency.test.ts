// Many conex processes on one store at once: SQLite in WAL mode with immediate write transactions and a busy
// timeout must queue them, never fail them with "database is locked", and never lose a row.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { makeStore, type Store } from '../helpers'

let s: Store

before(() => { s = makeStore('concurrency') })
after(async () => { await s.cleanup() })

test('8 parallel `run --rm busybox true` on a fresh store all succeed (the built-in image is built once)', async () => {
  const results = await Promise.all(Array.from({ length: 8 }, () => s.conex(['run', '--rm', 'busybox', 'true'])))
  assert.deepEqual(results.map((r) => [r.code, r.out, r.stderr]), results.map(() => [0, '', '']))
  assert.equal((await s.conex(['ps', '-a', '-q'])).out, '')
  const images = await s.conex(['images', '--format', '{{.Repository}}:{{.Tag}}'])
  assert.equal(images.out, 'localhost/busybox:latest\n')
})

test('8 parallel `run --rm busybox sh -c "exit 3"`: each reports 3, also when the exit command removed the container first', async () => {
  // conmon's exit command (`container cleanup`) records the exit and, for --rm, removes the container; under load it
  // can do both before the attached `run` reads the exit code, which then comes from the container's died event.
  const results = await Promise.all(Array.from({ length: 8 }, () => s.conex(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'])))
  assert.deepEqual(results.map((r) => [r.code, r.stderr]), results.map(() => [3, '']))
  assert.equal((await s.conex(['ps', '-a', '-q'])).out, '')
})

test('16 parallel `create` never fail and never lose a row', async () => {
  const results = await Promise.all(Array.from({ length: 16 }, (_, i) => s.conex(['create', '--name', `c${i}`, 'busybox', 'true'])))
  for (const r of results) {
    assert.equal(r.code, 0, r.stderr)
    assert.doesNotMatch(r.stderr, /locked/)
    assert.match(r.out, /^[0-9a-f]{64}\n$/)
  }
  const listed = (await s.conex(['ps', '-a', '-q', '--no-trunc'])).out.split('\n').filter((l) => l !== '').sort()
  assert.deepEqual(listed, results.map((r) => r.out.trim()).sort())
  const names = (await s.conex(['ps', '-a', '--format', '{{.Names}}'])).out.split('\n').filter((l) => l !== '').sort()
  assert.deepEqual(names, Array.from({ length: 16 }, (_, i) => `c${i}`).sort())
  const rm = await s.conex(['rm', '--all'])
  assert.equal(rm.code, 0, rm.stderr)
  assert.equal((await s.conex(['ps', '-a', '-q'])).out, '')
})
