import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { GLOBAL_FLAGS } from './global-flags'

test('bin/conex.js skips exactly the values of the global flags that take one (to find the command for its code cache)', () => {
  const launcher = readFileSync(join(__dirname, '..', '..', '..', 'bin', 'conex.js'), 'utf8')
  const m = /const WITH_VALUE = (\[[^\]]*\])/.exec(launcher)
  assert.ok(m !== null, 'bin/conex.js has no WITH_VALUE list')
  const listed = JSON.parse(m[1].replace(/'/g, '"')) as string[]
  const withValue = GLOBAL_FLAGS.filter((f) => f.type !== 'bool').map((f) => `--${f.name}`)
  assert.deepEqual([...listed].sort(), [...withValue].sort())
  assert.ok(GLOBAL_FLAGS.filter((f) => f.type !== 'bool').every((f) => f.short === undefined), 'a short global flag with a value: bin/conex.js would need it too')
})
