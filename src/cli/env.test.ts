import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expandEnv, readEnvFiles, collectEnv } from './env'
import { EngineError } from '../errors'

let dir: string
before(() => { dir = mkdtempSync(join(tmpdir(), 'conex-env-')) })
after(() => { rmSync(dir, { recursive: true, force: true }) })

const file = (name: string, text: string): string => { const p = join(dir, name); writeFileSync(p, text); return p }

function rejects (fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => err instanceof EngineError && err.code === 'INVALID_ARGUMENT' && err.message === message)
}

const HOST = { HOME: '/root', LANG: 'C.UTF-8', LC_ALL: 'C', LC_TIME: 'POSIX', EMPTY: '' }

test('expandEnv: K=V as given, K from the host (skipped when unset), PREFIX* for every match', () => {
  assert.deepEqual(expandEnv(['A=1', 'B=', 'C=x=y', 'HOME', 'NOPE', 'EMPTY', 'LC_*'], HOST),
    ['A=1', 'B=', 'C=x=y', 'HOME=/root', 'EMPTY=', 'LC_ALL=C', 'LC_TIME=POSIX'])
  assert.deepEqual(expandEnv(['*'], { X: '1', Y: '2' }), ['X=1', 'Y=2'])
  rejects(() => expandEnv(['=x'], HOST), 'invalid environment variable "=…": the name is empty')
  rejects(() => expandEnv([''], HOST), 'invalid environment variable "": the name is empty')
})

test('readEnvFiles: comments, blank lines and CRLF are skipped; values keep their spaces', () => {
  const p = file('a.env', '# a comment\n\nA=1\r\n  B=two words  \n\tC=\n   # indented comment\nD\n=\n')
  // `=` passes here; expandEnv refuses the empty name.
  assert.deepEqual(readEnvFiles([p]), ['A=1', 'B=two words  ', 'C=', 'D', '='])
  const q = file('b.env', 'A=1\nBAD KEY=2\n')
  rejects(() => readEnvFiles([q]), `invalid env file ${q}, line 2: variable "BAD KEY" contains whitespaces`)
  rejects(() => readEnvFiles([join(dir, 'missing.env')]), `reading env file ${join(dir, 'missing.env')}: no such file or directory`)
  // A name alone with trailing blanks is still the name.
  assert.deepEqual(readEnvFiles([file('c.env', 'HOME  \n')]), ['HOME'])
})

test('collectEnv: env files first (in order), then -e flags, names resolved from the host', () => {
  const one = file('one.env', 'A=file1\nB=file1\n')
  const two = file('two.env', 'B=file2\nCONEX_ENV_TEST\n')
  const saved = process.env.CONEX_ENV_TEST
  process.env.CONEX_ENV_TEST = 'from-host'
  try {
    assert.deepEqual(collectEnv(['A=flag', 'CONEX_ENV_TEST'], [one, two]),
      ['A=file1', 'B=file1', 'B=file2', 'CONEX_ENV_TEST=from-host', 'A=flag', 'CONEX_ENV_TEST=from-host'])
  } finally {
    if (saved === undefined) delete process.env.CONEX_ENV_TEST; else process.env.CONEX_ENV_TEST = saved
  }
})
