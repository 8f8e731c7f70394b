import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { isSameProcess, processStartTime, selfStartTime } from './proc'

test('a process is named by its pid and start time; our own start time is read once and stays the same', () => {
  const own = processStartTime(process.pid)
  assert.match(own ?? '', /^\d+$/)
  assert.equal(selfStartTime(), own)
  assert.equal(selfStartTime(), own)
  assert.equal(isSameProcess(process.pid, own ?? ''), true)
  assert.equal(isSameProcess(process.pid, String(Number(own) + 1)), false)
  assert.equal(isSameProcess(process.pid, ''), true)
})

test('no start time for pid 0, a negative pid, or a process that has ended', () => {
  assert.equal(processStartTime(0), undefined)
  assert.equal(processStartTime(-1), undefined)
  const gone = spawnSync('true').pid
  assert.equal(processStartTime(gone), undefined)
  assert.equal(isSameProcess(gone, ''), false)
})
