// removeTree on what an exec bundle holds: files, a unix socket, FIFOs, a subdirectory; a missing directory is fine.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, symlinkSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { removeTree } from './remove-tree'

test('removes files, a socket, FIFOs, a subdirectory and a symlink (not what it points to)', async () => {
  const outside = mkdtempSync('/tmp/conex-rt-outside-')
  writeFileSync(join(outside, 'keep'), 'k')
  const dir = mkdtempSync('/tmp/conex-rt-')
  mkdirSync(join(dir, 'exit'))
  writeFileSync(join(dir, 'exit', 'id'), '0')
  writeFileSync(join(dir, 'exec-process.json'), '{}')
  execFileSync('mkfifo', [join(dir, 'ctl'), join(dir, 'winsz')])
  symlinkSync(outside, join(dir, 'link'))
  const srv = createServer()
  await new Promise<void>((resolve) => srv.listen(join(dir, 'attach'), resolve))
  removeTree(dir)
  srv.close()
  assert.equal(existsSync(dir), false)
  assert.equal(existsSync(join(outside, 'keep')), true, 'a symlinked directory is unlinked, not followed')
  removeTree(outside)
})

test('a missing directory is not an error; other errors are thrown', () => {
  removeTree('/tmp/conex-rt-does-not-exist')
  assert.throws(() => removeTree('/proc/self/fd/0/x'), (err: NodeJS.ErrnoException) => err.code === 'ENOTDIR')
})
