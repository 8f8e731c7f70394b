// The fsbatch addon: removing what an exec bundle holds (files, a unix socket, FIFOs, a subdirectory, a symlink that
// must not be followed) in the thread pool and synchronously, and writeEach's per-file results.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, symlinkSync, rmSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { removeTreeAsync, removeTreeSync, writeEach } from './fsbatch'

// What an exec bundle holds, next to a directory a symlink in it points to.
async function bundleLike (): Promise<{ dir: string, outside: string, close: () => void }> {
  const outside = mkdtempSync('/tmp/conex-fb-outside-')
  writeFileSync(join(outside, 'keep'), 'k')
  const dir = mkdtempSync('/tmp/conex-fb-')
  mkdirSync(join(dir, 'exit', 'deeper'), { recursive: true })
  writeFileSync(join(dir, 'exit', 'id'), '0')
  writeFileSync(join(dir, 'exit', 'deeper', 'x'), '1')
  writeFileSync(join(dir, 'exec-process.json'), '{}')
  execFileSync('mkfifo', [join(dir, 'ctl'), join(dir, 'winsz')])
  symlinkSync(outside, join(dir, 'link'))
  const srv = createServer()
  await new Promise<void>((resolve) => srv.listen(join(dir, 'attach'), resolve))
  return { dir, outside, close: () => { srv.close() } }
}

for (const [name, remove] of [['removeTreeAsync', removeTreeAsync], ['removeTreeSync', async (d: string) => { removeTreeSync(d) }]] as const) {
  test(`${name} removes files, a socket, FIFOs, nested directories and a symlink (not what it points to)`, async () => {
    const b = await bundleLike()
    await remove(b.dir)
    b.close()
    assert.equal(existsSync(b.dir), false)
    assert.equal(readFileSync(join(b.outside, 'keep'), 'utf8'), 'k', 'a symlinked directory is unlinked, not followed')
    rmSync(b.outside, { recursive: true })
  })

  test(`${name}: a missing directory is no error; a file where a directory should be is ENOTDIR`, async () => {
    await remove('/tmp/conex-fb-does-not-exist')
    const f = join(mkdtempSync('/tmp/conex-fb-'), 'file')
    writeFileSync(f, 'x')
    await assert.rejects(remove(f), (err: NodeJS.ErrnoException) => err.code === 'ENOTDIR' && err.message === `remove ${f}: ENOTDIR`)
    await assert.rejects(remove('/proc/self/fd/0/x'), (err: NodeJS.ErrnoException) => err.code === 'ENOTDIR')
    rmSync(join(f, '..'), { recursive: true })
  })
}

test('writeEach writes the data into each file and reports each failure by itself', async () => {
  const dir = mkdtempSync('/tmp/conex-fb-')
  try {
    writeFileSync(join(dir, 'a'), 'old contents')
    writeFileSync(join(dir, 'b'), '')
    const errs = await writeEach([join(dir, 'a'), join(dir, 'missing'), join(dir, 'b')], '4242')
    assert.equal(errs[0], undefined)
    assert.equal(errs[1]?.code, 'ENOENT')
    assert.equal(errs[2], undefined)
    // Written at the start, not truncated: as a write to cgroup.procs (which has no contents to keep).
    assert.equal(readFileSync(join(dir, 'a'), 'utf8'), '4242contents')
    assert.equal(readFileSync(join(dir, 'b'), 'utf8'), '4242')
    assert.deepEqual(await writeEach([], 'x'), [])
  } finally { rmSync(dir, { recursive: true }) }
})
