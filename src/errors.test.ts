import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ERRORS, EngineError, toEngineError } from './errors'

test('every error code is documented in docs/errors.md with its HTTP status and exit code, and nothing else is', () => {
  const md = readFileSync(join(__dirname, '../../docs/errors.md'), 'utf8')
  const documented = new Map([...md.matchAll(/^\| `(\w+)` \| (\d+) \| (\d+) \|/gm)].map((m) => [m[1], [Number(m[2]), Number(m[3])]]))
  for (const [code, row] of Object.entries(ERRORS)) {
    assert.deepEqual(documented.get(code), [row.http, row.exit], `docs/errors.md row for ${code}`)
  }
  assert.deepEqual([...documented.keys()].sort(), Object.keys(ERRORS).sort())
})

test('EngineError carries the table row; instanceof works across copies via the brand', () => {
  const e = new EngineError('EXEC_NOT_FOUND', 'no such command')
  assert.equal(e.httpStatus, 500)
  assert.equal(e.exitCode, 127)
  assert.ok(e instanceof EngineError)
  const foreign = Object.assign(new Error('x'), { [Symbol.for('conex.error')]: true })
  assert.ok(foreign instanceof EngineError)
  assert.ok(!(new Error('plain') instanceof EngineError))
})

test('unknown errors become INTERNAL (500, exit 125) and keep their cause', () => {
  const cause = new TypeError('boom')
  const e = toEngineError(cause)
  assert.equal(e.code, 'INTERNAL')
  assert.equal(e.httpStatus, 500)
  assert.equal(e.exitCode, 125)
  assert.equal(e.cause, cause)
})
