// Local image names: the built-in busybox, tag, rmi (untag vs delete), and rmi refused while a container uses it.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { makeStore, type Store } from '../helpers'

let s: Store

before(() => { s = makeStore('images') })
after(async () => { await s.cleanup() })

const names = async (): Promise<string> => (await s.conex(['images', '--format', '{{.Repository}}:{{.Tag}}'])).out

test('images lists the built-in localhost/busybox:latest', async () => {
  const r = await s.conex(['images'])
  assert.equal(r.code, 0, r.stderr)
  const [header, row, end] = r.out.split('\n')
  assert.deepEqual(header.trim().split(/\s{2,}/), ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'])
  assert.match(row, /^localhost\/busybox\s+latest\s+[0-9a-f]{12}\s+/)
  assert.equal(end, '')
  assert.equal(await names(), 'localhost/busybox:latest\n')
  assert.match((await s.conex(['images', '-q'])).out, /^[0-9a-f]{12}\n$/)
})

test('tag adds a name that run resolves; rmi of one of several names only untags', async () => {
  assert.equal((await s.conex(['tag', 'busybox', 'mine:1'])).code, 0)
  assert.equal(await names(), 'localhost/busybox:latest\nlocalhost/mine:1\n')
  const same = await s.conex(['images', '--format', '{{.ID}}'])
  const [a, b] = same.out.split('\n')
  assert.equal(a, b)
  const run = await s.conex(['run', '--rm', 'mine:1', 'echo', 'tagged'])
  assert.equal(run.code, 0, run.stderr)
  assert.equal(run.out, 'tagged\n')
  const rmi = await s.conex(['rmi', 'mine:1'])
  assert.equal(rmi.code, 0, rmi.stderr)
  assert.equal(rmi.out, 'Untagged: localhost/mine:1\n')
  assert.equal(await names(), 'localhost/busybox:latest\n')
  const gone = await s.conex(['run', '--rm', 'mine:1', 'true'])
  assert.equal(gone.code, 125)
  assert.equal(gone.stderr, 'Error: mine:1: image not known\n')
})

test('rmi refuses an image a container uses; after rm it deletes it', async () => {
  const c = await s.conex(['create', '--name', 'user', 'busybox', 'true'])
  assert.equal(c.code, 0, c.stderr)
  const r = await s.conex(['rmi', 'busybox'])
  assert.equal(r.code, 125)
  assert.equal(r.stderr, `Error: image used by ${c.out.trim()}: image is in use by a container: consider listing external containers and force-removing image\n`)
  assert.equal(await names(), 'localhost/busybox:latest\n')
  assert.equal((await s.conex(['rm', 'user'])).code, 0)
  const del = await s.conex(['rmi', 'busybox'])
  assert.equal(del.code, 0, del.stderr)
  assert.match(del.out, /^Untagged: localhost\/busybox:latest\nDeleted: [0-9a-f]{64}\n$/)
  // Its only layer went with it.
  assert.deepEqual(readdirSync(join(s.root, 'layers')), [])
})
