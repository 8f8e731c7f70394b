// bin/conex.js runs the bundled CLI through V8's code cache. V8 checks a cache against the source's length only, so
// a rebuilt bundle of the same length must not run the old bundle's compiled code: the launcher ties each cache to
// the bundle it was made from.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { runProgram } from '../helpers'

const ROOT = resolve(__dirname, '../../..')

test('a rebuilt bundle of the same length does not run the previous bundle\'s cached code', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conex-launcher-'))
  try {
    mkdirSync(join(dir, 'bin'))
    mkdirSync(join(dir, 'dist'))
    copyFileSync(join(ROOT, 'bin', 'conex.js'), join(dir, 'bin', 'conex.js'))
    copyFileSync(join(ROOT, 'dist', 'conex.js'), join(dir, 'dist', 'conex.js'))
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
    const version = async (): Promise<string> => {
      const r = await runProgram(process.execPath, [join(dir, 'bin', 'conex.js'), '--version'])
      assert.equal(r.code, 0, r.stderr)
      return r.out
    }
    assert.equal(await version(), 'conex version 0.1.0\n')
    assert.equal(await version(), 'conex version 0.1.0\n') // from the cache the first run wrote
    assert.ok(statSync(join(dir, 'dist', 'conex.js.other.cache')).size > 0)
    // "rebuild": the same length, other content, a new modification time (as every build gives)
    const bundle = join(dir, 'dist', 'conex.js')
    const before = statSync(bundle)
    const text = readFileSync(bundle, 'utf8')
    assert.ok(text.includes('conex version 0.1.0'))
    writeFileSync(bundle, text.replace('conex version 0.1.0', 'conex version 9.9.9'))
    utimesSync(bundle, before.atime, new Date(before.mtimeMs + 5000))
    assert.equal(statSync(bundle).size, before.size)
    assert.equal(await version(), 'conex version 9.9.9\n')
    assert.equal(await version(), 'conex version 9.9.9\n')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
