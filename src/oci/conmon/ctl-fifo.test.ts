import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatResize, writeResize, MAX_TTY_DIM } from './ctl-fifo'
import { EngineError } from '../../errors'

let dir: string
before(() => { dir = mkdtempSync(join(tmpdir(), 'conex-ctl-')) })
after(() => { rmSync(dir, { recursive: true, force: true }) })

test('formatResize: conmon\'s "1 HEIGHT WIDTH\\n" for sizes 0..1000', () => {
  assert.equal(formatResize(24, 80), '1 24 80\n')
  assert.equal(formatResize(0, 0), '1 0 0\n')
  assert.equal(formatResize(MAX_TTY_DIM, MAX_TTY_DIM), '1 1000 1000\n')
  for (const [h, w, bad] of [[1001, 80, 'height'], [24, -1, 'width'], [2.5, 80, 'height'], [24, Number.NaN, 'width']] as const) {
    assert.throws(() => formatResize(h, w), (err: unknown) => err instanceof EngineError && err.code === 'INVALID_ARGUMENT' &&
      err.message === `terminal ${bad} must be an integer from 0 to 1000, got ${String(bad === 'height' ? h : w)}`)
  }
})

test('writeResize writes one line to a FIFO that has a reader', async () => {
  const fifo = join(dir, 'ctl')
  execFileSync('mkfifo', [fifo])
  // A non-blocking reader, as conmon keeps its end open.
  const rfd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)
  try {
    await writeResize(fifo, 30, 120)
    const buf = Buffer.alloc(64)
    const n = readSync(rfd, buf, 0, buf.length, null)
    assert.equal(buf.subarray(0, n).toString(), '1 30 120\n')
  } finally { closeSync(rfd) }
})

test('writeResize gives up with ENXIO when nobody reads the FIFO, and refuses bad sizes before opening', async () => {
  const fifo = join(dir, 'ctl-unread')
  execFileSync('mkfifo', [fifo])
  const t0 = Date.now()
  await assert.rejects(writeResize(fifo, 24, 80), (err: NodeJS.ErrnoException) => err.code === 'ENXIO')
  assert.ok(Date.now() - t0 >= 500, 'retried for a while first')
  await assert.rejects(writeResize(join(dir, 'missing'), 24, 80), (err: NodeJS.ErrnoException) => err.code === 'ENOENT')
  await assert.rejects(writeResize(join(dir, 'missing'), 5000, 80), (err: unknown) => err instanceof EngineError && err.code === 'INVALID_ARGUMENT')
})
