// spawnConmon's report of a conmon that failed before daemonizing, with a stand-in conmon (a shell script): its own
// stderr pipe, or with passthrough stdio the process's stderr pipe, which is conmon's own stderr then.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { spawnConmon } from './spawn'

const dir = mkdtempSync(join(tmpdir(), 'conex-spawn-'))
const fake = join(dir, 'conmon')
writeFileSync(fake, '#!/bin/sh\necho "[conmon:e]: first line" >&2\necho "[conmon:e]: Failed to create container: exit status 1" >&2\nexit 1\n')
chmodSync(fake, 0o755)

async function failure (stdio?: { stdin: boolean, stdout: boolean, stderr: boolean }): Promise<string> {
  const c = await spawnConmon({ conmonPath: fake, args: [], cwd: dir, ...(stdio !== undefined ? { stdio } : {}) })
  assert.equal(await c.sync.next(), undefined, 'the sync pipe ends without a message')
  const end = Date.now() + 5000
  while (!c.stderr().startsWith('conmon failed (exit 1)') && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20))
  const text = c.stderr()
  c.kill()
  return text
}

test('a conmon that fails before daemonizing: its exit status and last stderr line', async () => {
  assert.equal(await failure(), 'conmon failed (exit 1): [conmon:e]: Failed to create container: exit status 1')
})

test('the same with passthrough stdio: the message is read from the process\'s stderr pipe', async () => {
  assert.equal(await failure({ stdin: true, stdout: true, stderr: true }), 'conmon failed (exit 1): [conmon:e]: Failed to create container: exit status 1')
})
