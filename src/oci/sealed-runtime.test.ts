// The sealed copy of the runtime (sealed-runtime.ts), made from real binaries: runc's bytes, sealed as runc requires
// (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE = 15) and not writable by anyone, root included; started
// through a link named as the binary; a new copy when the binary is replaced; nothing left after close.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { copyFileSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readlinkSync, renameSync, rmSync, writeSync, ftruncateSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SealedRuntime } from './sealed-runtime'
import { findBinary } from '../config'

const RUNC = findBinary('runc')
const RUNTIME_SEALS = 1 | 2 | 4 | 8

function scratch (): string { return mkdtempSync(join(tmpdir(), 'conex-sealed-')) }
const fdOf = (link: string): number => Number(/^\/proc\/\d+\/fd\/(\d+)$/.exec(readlinkSync(link))?.[1])

test('a sealed copy of runc: its bytes, the seals runc checks, runs as runc, and cannot be written', { skip: RUNC === undefined && 'runc not installed' }, () => {
  const dir = scratch()
  const s = SealedRuntime.make(RUNC as string, { linkRoot: join(dir, 'links') })
  assert.ok(s !== undefined)
  try {
    assert.equal(s.link, join(dir, 'links', String(process.pid), 'runc'))
    assert.equal(s.path(), s.link)
    assert.match(readlinkSync(s.link), new RegExp(`^/proc/${process.pid}/fd/\\d+$`))
    assert.equal(readlinkSync(`/proc/self/fd/${fdOf(s.link)}`), '/memfd:conex-runc (deleted)')
    assert.equal(s.seals(), RUNTIME_SEALS)
    assert.ok(readFileSync(s.link).equals(readFileSync(RUNC as string)))
    assert.equal(execFileSync(s.link, ['--version'], { encoding: 'utf8' }), execFileSync(RUNC as string, ['--version'], { encoding: 'utf8' }))
    const fd = openSync(s.link, 'r+')
    try {
      assert.throws(() => writeSync(fd, 'x', 0), { code: 'EPERM' })
      assert.throws(() => ftruncateSync(fd, 0), { code: 'EPERM' })
    } finally { closeSync(fd) }
  } finally {
    s.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('started through its link, the process is named as the binary; a replaced binary gets a new copy, the old one is closed later', async () => {
  const dir = scratch()
  const bin = join(dir, 'tool')
  copyFileSync('/bin/sleep', bin)
  const s = SealedRuntime.make(bin, { linkRoot: join(dir, 'links'), retireMs: 50 })
  assert.ok(s !== undefined)
  try {
    const child = spawn(s.path(), ['30'], { stdio: 'ignore' })
    await new Promise((resolve) => child.once('spawn', resolve))
    assert.equal(readFileSync(`/proc/${child.pid as number}/comm`, 'utf8'), 'tool\n')
    child.kill()
    const first = fdOf(s.link)
    assert.equal(s.path(), s.link, 'unchanged binary: same copy')
    assert.equal(fdOf(s.link), first)
    // the package manager's way: a new file renamed over the old one
    copyFileSync('/bin/echo', `${bin}.new`)
    renameSync(`${bin}.new`, bin)
    assert.equal(s.path(), s.link)
    const second = fdOf(s.link)
    assert.notEqual(second, first)
    assert.equal(s.seals(), RUNTIME_SEALS)
    assert.equal(execFileSync(s.link, ['replaced'], { encoding: 'utf8' }), 'replaced\n')
    assert.ok(fstatSync(first).size > 0, 'the old copy stays open for a while')
    await new Promise((resolve) => setTimeout(resolve, 150))
    assert.throws(() => fstatSync(first), { code: 'EBADF' })
  } finally {
    s.close()
  }
  assert.equal(existsSync(join(dir, 'links', String(process.pid))), false, 'close removes the link')
  assert.equal(s.path(), bin, 'after close: the binary itself')
  rmSync(dir, { recursive: true, force: true })
})

test('the link directories of processes that are gone are removed; a live one is kept; no binary, no copy', () => {
  const dir = scratch()
  const links = join(dir, 'links')
  // pid 1 lives; a pid above the kernel's pid_max (4194304 at most) cannot
  for (const d of ['1', '4194305']) mkdirSync(join(links, d), { recursive: true })
  const s = SealedRuntime.make('/bin/true', { linkRoot: links })
  assert.ok(s !== undefined)
  s.close()
  assert.equal(existsSync(join(links, '1')), true)
  assert.equal(existsSync(join(links, '4194305')), false)
  assert.equal(SealedRuntime.make(join(dir, 'missing'), { linkRoot: links }), undefined)
  rmSync(dir, { recursive: true, force: true })
})
