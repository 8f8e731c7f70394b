import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { classifyRuntimeError, readOciLog, runtimeError } from './runtime-error'

let dir: string
before(() => { dir = mkdtempSync(join(tmpdir(), 'conex-rterr-')) })
after(() => { rmSync(dir, { recursive: true, force: true }) })

test('classifyRuntimeError: 127 for a missing command, 126 for one that cannot run, 125 otherwise', () => {
  const cases: Array<[string, string]> = [
    ['runc exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH', 'EXEC_NOT_FOUND'],
    ['exec: "/nosuch": stat /nosuch: no such file or directory', 'EXEC_NOT_FOUND'],
    ['crun: executable file `nosuch` not found in $PATH: No such file or directory', 'EXEC_NOT_FOUND'],
    ['exec: "/etc/passwd": permission denied', 'EXEC_CANNOT_INVOKE'],
    ['exec: "/tmp": is a directory', 'EXEC_CANNOT_INVOKE'],
    ['exec format error', 'EXEC_CANNOT_INVOKE'],
    ['unable to apply caps: operation not permitted', 'EXEC_CANNOT_INVOKE'],
    ['container not running', 'RUNTIME_ERROR'],
    ['', 'RUNTIME_ERROR'],
  ]
  for (const [msg, code] of cases) assert.equal(classifyRuntimeError(msg), code, msg)
})

test('readOciLog: the last error or fatal message of runc\'s JSON log; non-JSON lines count as messages', () => {
  const p = join(dir, 'oci-log')
  writeFileSync(p, [
    '{"level":"warning","msg":"a warning","time":"2026-01-01T00:00:00Z"}',
    '{"level":"error","msg":"first error"}',
    '',
    '{"level":"error","msg":"runc create failed: unable to start container process: exec: \\"x\\": executable file not found in $PATH"}',
    '{"level":"info","msg":"later info"}',
  ].join('\n'))
  assert.equal(readOciLog(p), 'runc create failed: unable to start container process: exec: "x": executable file not found in $PATH')
  writeFileSync(p, '{"level":"fatal","msg":"fatal one"}\nplain text line\n')
  assert.equal(readOciLog(p), 'plain text line')
  writeFileSync(p, '{"level":"info","msg":"only info"}\n')
  assert.equal(readOciLog(p), undefined)
  assert.equal(readOciLog(join(dir, 'missing')), undefined)
})

test('runtimeError: one line, the runtime\'s prefix stripped, classified, with context', () => {
  const e = runtimeError('runc', 'some noise\nrunc create failed: unable to start container process: exec: "x": executable file not found in $PATH\n', 'creating container web')
  assert.equal(e.code, 'EXEC_NOT_FOUND')
  assert.equal(e.exitCode, 127)
  assert.equal(e.message, 'creating container web: runc: unable to start container process: exec: "x": executable file not found in $PATH')
  const f = runtimeError('crun', 'crun exec failed: open `/tmp`: Is a directory', 'starting exec session in web')
  assert.equal(f.code, 'EXEC_CANNOT_INVOKE')
  assert.equal(f.message, 'starting exec session in web: crun: open `/tmp`: Is a directory')
  const g = runtimeError('runc', '   \n', 'x')
  assert.equal(g.code, 'RUNTIME_ERROR')
  assert.equal(g.message, 'x: runc: unknown error')
})
