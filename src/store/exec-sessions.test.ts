// The reaper's query: while a container runs it reads only its started sessions, not the created ones a client may
// leave by the hundred (until they expire); activeForContainer (ps, inspect's ExecIDs) still lists both.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { openDb } from './db'
import { ExecSessionStore } from './exec-sessions'
import type { ExecSessionRecord, ExecState } from '../engine/types'

const hex = (name: string): string => name.padEnd(64, '0')
const ids = (list: ExecSessionRecord[]): string[] => list.map((s) => s.id.replace(/0+$/, ''))
const session = (id: string, containerId: string, state: ExecState, createdAt: number): ExecSessionRecord => ({
  id: hex(id), containerId: hex(containerId), state, pid: 0, pidStart: '', conmonPid: 0, exitCode: state === 'stopped' ? 0 : null, createdAt, startedAt: 0, endedAt: 0,
  config: { command: ['true'], env: [], user: '', workdir: '', tty: false, attachStdin: false, attachStdout: true, attachStderr: true, privileged: false, detachKeys: '', preserveFds: 0, timeout: 0 },
})

test('runningForContainer: started sessions of that container only, oldest first; activeForContainer adds the created', () => {
  const dir = mkdtempSync('/tmp/conex-execs-test-')
  try {
    const db = openDb(dir)
    db.pragma('foreign_keys = OFF') // sessions without their container and image rows
    const execs = new ExecSessionStore(db)
    execs.add(session('e1', 'a', 'created', 1))
    execs.add(session('e3', 'a', 'running', 3))
    execs.add(session('e2', 'a', 'running', 2))
    execs.add(session('e4', 'a', 'stopped', 4))
    execs.add(session('e5', 'b', 'running', 5))
    assert.deepEqual(ids(execs.runningForContainer(hex('a'))), ['e2', 'e3'])
    assert.deepEqual(ids(execs.activeForContainer(hex('a'))), ['e1', 'e2', 'e3'])
    assert.deepEqual(execs.runningForContainer(hex('c')), [])
    db.close()
  } finally { rmSync(dir, { recursive: true, force: true }) }
})
