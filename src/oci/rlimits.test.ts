import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { parseProcLimits, specRlimits, parseUlimit, ownLimits } from './rlimits'
import { EngineError } from '../errors'

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max file size             unlimited            unlimited            bytes
Max core file size        0                    unlimited            bytes
Max processes             96364                96364                processes
Max open files            20000                20000                files
Max locked memory         8388608              8388608              bytes
Max realtime timeout      unlimited            unlimited            us
`
const UNLIMITED = Number.MAX_SAFE_INTEGER

function rejects (fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => err instanceof EngineError && err.code === 'INVALID_ARGUMENT' && err.message === message)
}

test('parseProcLimits reads /proc/self/limits rows by name, unlimited as MAX_SAFE_INTEGER', () => {
  const m = parseProcLimits(LIMITS)
  assert.deepEqual([...m.entries()], [
    ['cpu', { soft: UNLIMITED, hard: UNLIMITED }],
    ['fsize', { soft: UNLIMITED, hard: UNLIMITED }],
    ['core', { soft: 0, hard: UNLIMITED }],
    ['nproc', { soft: 96364, hard: 96364 }],
    ['nofile', { soft: 20000, hard: 20000 }],
    ['memlock', { soft: 8388608, hard: 8388608 }],
    ['rttime', { soft: UNLIMITED, hard: UNLIMITED }],
  ])
  // This process's own table parses too, with the open-files row present.
  assert.ok(ownLimits().get('nofile') !== undefined)
  assert.equal(ownLimits().get('nofile')?.hard, parseProcLimits(readFileSync('/proc/self/limits', 'utf8')).get('nofile')?.hard)
})

test('specRlimits: podman\'s defaults, clamped to the engine\'s hard limits so the runtime can set them', () => {
  const own = parseProcLimits(LIMITS)
  assert.deepEqual(specRlimits([], own), [
    { type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 },
    { type: 'RLIMIT_NPROC', soft: 96364, hard: 96364 },
  ])
  assert.deepEqual(specRlimits([], new Map()), [
    { type: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 },
    { type: 'RLIMIT_NPROC', soft: 4194304, hard: 4194304 },
  ])
})

test('specRlimits: --ulimit replaces a default or adds a row; above the hard limit it is refused', () => {
  const own = parseProcLimits(LIMITS)
  assert.deepEqual(specRlimits([{ name: 'nofile', soft: 1024, hard: 2048 }, { name: 'core', soft: 0, hard: 0 }], own), [
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 },
    { type: 'RLIMIT_NPROC', soft: 96364, hard: 96364 },
    { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
  ])
  assert.deepEqual(specRlimits([{ name: 'nofile', soft: 20000, hard: 20000 }], own)[0], { type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 })
  rejects(() => specRlimits([{ name: 'nofile', soft: 100, hard: 20001 }], own), '--ulimit nofile=100:20001: the hard limit is above this engine\'s own (20000)')
})

test('parseUlimit: NAME=SOFT[:HARD], -1 for unlimited, soft never above hard', () => {
  assert.deepEqual(parseUlimit('nofile=1024:2048'), { name: 'nofile', soft: 1024, hard: 2048 })
  assert.deepEqual(parseUlimit('nproc=512'), { name: 'nproc', soft: 512, hard: 512 })
  assert.deepEqual(parseUlimit('core=-1'), { name: 'core', soft: UNLIMITED, hard: UNLIMITED })
  assert.deepEqual(parseUlimit('core=0:-1'), { name: 'core', soft: 0, hard: UNLIMITED })
  rejects(() => parseUlimit('nofile=2048:1024'), 'invalid ulimit "nofile=2048:1024": soft limit above hard limit')
  rejects(() => parseUlimit('bogus=1'), 'invalid ulimit "bogus=1": expected NAME=SOFT[:HARD]')
  rejects(() => parseUlimit('nofile'), 'invalid ulimit "nofile": expected NAME=SOFT[:HARD]')
  rejects(() => parseUlimit('nofile=1:2:3'), 'invalid ulimit "nofile=1:2:3": expected NAME=SOFT[:HARD]')
  rejects(() => parseUlimit('nofile=-1:10'), 'invalid ulimit "nofile=-1:10": soft limit above hard limit')
})
