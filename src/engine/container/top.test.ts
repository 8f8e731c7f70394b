import assert from 'node:assert/strict'
import { test } from 'node:test'
import { cpuTime, startTime, topRow, ttyName, type HostClock } from './top'

// A stat line as the kernel writes it, the command name with a space and a parenthesis in it.
const stat = (o: { ppid: number, tty: number, utime: number, stime: number, start: number }): string =>
  `42 (we(ird) name) S ${o.ppid} 42 42 ${o.tty} -1 4194560 100 0 0 0 ${o.utime} ${o.stime} 0 0 20 0 1 0 ${o.start} 1000 100`

test('top: ps -ef columns from /proc: host user name, ppid, lifetime CPU %, start time, tty, CPU time, command', () => {
  const boot = new Date(2026, 11, 1, 8, 0, 0).getTime() / 1000
  const h: HostClock = { hz: 100, bootSec: boot, nowMs: (boot + 1000) * 1000, users: new Map([[0, 'root']]) }
  // Started 600 s after boot (08:10 local), 150 s of CPU in its 400 s so far: 37 %.
  const row = topRow(42, { stat: stat({ ppid: 7, tty: (136 << 8) | 3, utime: 10_000, stime: 5_000, start: 60_000 }), uid: 0, cmdline: ['sleep', '100'] }, h)
  assert.deepEqual(row, ['root', '42', '7', '37', '08:10', 'pts/3', '00:02:30', 'sleep 100'])
  // An unknown uid stays a number; no cmdline (a kernel thread, a zombie): the name in brackets, as ps shows it.
  const other = topRow(43, { stat: stat({ ppid: 1, tty: 0, utime: 0, stime: 0, start: 100 }), uid: 1234, cmdline: [] }, h)
  assert.deepEqual(other, ['1234', '43', '1', '0', '08:00', '?', '00:00:00', '[we(ird) name]'])
})

test('top: STIME is HH:MM today, MonDD this year, the year before that; TIME rolls into days; ttys by major', () => {
  const now = new Date(2026, 11, 1, 15, 30).getTime()
  assert.equal(startTime(new Date(2026, 11, 1, 9, 5).getTime(), now), '09:05')
  assert.equal(startTime(new Date(2026, 2, 7, 9, 5).getTime(), now), 'Mar07')
  assert.equal(startTime(new Date(2025, 2, 7, 9, 5).getTime(), now), '2025')
  assert.equal(cpuTime(59.9), '00:00:59')
  assert.equal(cpuTime(3 * 86400 + 3661), '3-01:01:01')
  assert.equal(ttyName(0), '?')
  assert.equal(ttyName((136 << 8) | 0), 'pts/0')
  assert.equal(ttyName((137 << 8) | 2), 'pts/258')
  assert.equal(ttyName((4 << 8) | 1), 'tty1')
  assert.equal(ttyName((4 << 8) | 65), 'ttyS1')
})
