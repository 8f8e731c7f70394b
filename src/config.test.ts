// loadConfig's exec_passthrough: on by default; $CONEX_EXEC_PASSTHROUGH over the config file; bad values refused.
import { test, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { loadConfig } from './config'

const saved = process.env.CONEX_EXEC_PASSTHROUGH
afterEach(() => { if (saved === undefined) delete process.env.CONEX_EXEC_PASSTHROUGH; else process.env.CONEX_EXEC_PASSTHROUGH = saved })

const file = (content: unknown): string => {
  const p = join(mkdtempSync(join(tmpdir(), 'conex-config-')), 'conex.json')
  writeFileSync(p, JSON.stringify(content))
  return p
}

test('exec_passthrough is on by default', () => {
  delete process.env.CONEX_EXEC_PASSTHROUGH
  assert.equal(loadConfig({ config: file({}) }).execPassthrough, true)
})

test('the config file turns it off; the environment overrides the file', () => {
  delete process.env.CONEX_EXEC_PASSTHROUGH
  const off = file({ exec_passthrough: false })
  assert.equal(loadConfig({ config: off }).execPassthrough, false)
  process.env.CONEX_EXEC_PASSTHROUGH = 'true'
  assert.equal(loadConfig({ config: off }).execPassthrough, true)
  process.env.CONEX_EXEC_PASSTHROUGH = '0'
  assert.equal(loadConfig({ config: file({}) }).execPassthrough, false)
})

test('bad values are refused with the setting named', () => {
  process.env.CONEX_EXEC_PASSTHROUGH = 'yes'
  assert.throws(() => loadConfig({ config: file({}) }), { message: 'CONEX_EXEC_PASSTHROUGH must be 1, true, 0 or false, got "yes"' })
  delete process.env.CONEX_EXEC_PASSTHROUGH
  assert.throws(() => loadConfig({ config: file({ exec_passthrough: 'no' }) }), { message: 'exec_passthrough must be true or false, got "no"' })
})
