// `conex exec` exit statuses for real (conmon + runc): the command's own code, 125 for conex errors (no command, no
// such container, stopped or paused container), 126 when the command cannot be invoked, 127 when it is not found,
// 128+n when a signal ended it.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { SKIP, startFixture, firstLine, assertNothingLeft, waitFor, execInspect } from './exec-common'
import type { Store } from '../helpers'

describe('exec exit codes', { skip: SKIP }, () => {
  let store: Store

  before(async () => { ({ store } = await startFixture('exec-exit')) })
  after(async () => { await store?.cleanup() })

  for (const [code, script] of [[0, 'exit 0'], [1, 'exit 1'], [42, 'exit 42'], [255, 'exit 255']] as const) {
    test(`the command's exit status ${code} is conex's`, async () => {
      const r = await store.conex(['exec', 'c1', 'sh', '-c', script])
      assert.equal(r.stderr, '')
      assert.equal(r.out, '')
      assert.equal(r.code, code)
    })
  }

  test('output and status together: stdout is complete and the code is 42', async () => {
    const r = await store.conex(['exec', 'c1', 'sh', '-c', 'echo before; exit 42'])
    assert.equal(r.out, 'before\n')
    assert.equal(r.stderr, '')
    assert.equal(r.code, 42)
  })

  test('SIGKILL gives 137 (128+9)', async () => {
    const r = await store.conex(['exec', 'c1', 'sh', '-c', 'kill -9 $$'])
    assert.equal(r.stderr, '')
    assert.equal(r.code, 137)
  })

  test('SIGTERM gives 143 (128+15) and SIGHUP 129 (128+1)', async () => {
    const term = await store.conex(['exec', 'c1', 'sh', '-c', 'kill -15 $$'])
    assert.equal(term.stderr, '')
    assert.equal(term.code, 143)
    const hup = await store.conex(['exec', 'c1', 'sh', '-c', 'kill -1 $$'])
    assert.equal(hup.stderr, '')
    assert.equal(hup.code, 129)
  })

  // The runtime's own words end the message; conex puts its context first.
  for (const [code, cmd, reason, why] of [
    [126, '/etc', '"/etc": permission denied', 'a directory cannot be invoked'],
    [127, '/nonexistent', 'stat /nonexistent: no such file or directory', 'a missing command'],
  ] as const) {
    test(`${why}: ${code} with the runtime's reason`, async () => {
      const r = await store.conex(['exec', 'c1', cmd])
      assert.equal(r.code, code)
      assert.equal(r.out, '')
      const line = firstLine(r)
      assert.ok(line.startsWith('Error: starting exec session in c1: runc: '), line)
      assert.ok(line.endsWith(reason), line)
    })
  }

  test('a command missing from $PATH is 127 too', async () => {
    const r = await store.conex(['exec', 'c1', 'no-such-command-anywhere'])
    assert.equal(r.code, 127)
    assert.ok(firstLine(r).startsWith('Error: starting exec session in c1: runc: '), r.stderr)
  })

  // conex's own errors: 125 and exactly one line on stderr, nothing on stdout.
  const usageErrors: Array<[string, string[], string]> = [
    ['no command', ['exec', 'c1'], 'Error: must provide a non-empty command to start an exec session'],
    ['no container and no command', ['exec'], 'Error: "conex exec" requires at least 2 arguments (see \'conex exec --help\')'],
    ['an empty command name', ['exec', 'c1', ''], 'Error: must provide a non-empty command to start an exec session'],
    ['an unknown flag', ['exec', '--bogus', 'c1', 'true'], 'Error: unknown flag: --bogus (see \'conex exec --help\')'],
    // Refused before the runtime runs: a handed-over stderr would otherwise get the runtime's own line as well.
    ['a relative working directory', ['exec', '-w', 'tmp', 'c1', 'pwd'], 'Error: the working directory \'tmp\' is invalid, it needs to be an absolute path'],
    ['no such container', ['exec', 'nosuch', 'true'], 'Error: no container with name or ID "nosuch" found: no such container'],
  ]
  for (const [why, args, message] of usageErrors) {
    test(`${why}: 125`, async () => {
      const r = await store.conex(args)
      assert.equal(r.code, 125)
      assert.equal(r.out, '')
      assert.equal(r.stderr, message + '\n')
    })
  }

  test('a stopped container: 125', async () => {
    const created = await store.conex(['run', '-d', '--name', 'stopped1', 'busybox', 'sleep', '100000'])
    assert.equal(created.code, 0, created.stderr)
    const stop = await store.conex(['stop', '-t', '0', 'stopped1'])
    assert.equal(stop.code, 0, stop.stderr)
    const r = await store.conex(['exec', 'stopped1', 'true'])
    assert.equal(r.code, 125)
    assert.equal(r.stderr, 'Error: can only create exec sessions on running containers: container state improper\n')
    const never = await store.conex(['create', '--name', 'created1', 'busybox', 'sleep', '1'])
    assert.equal(never.code, 0, never.stderr)
    const r2 = await store.conex(['exec', 'created1', 'true'])
    assert.equal(r2.code, 125)
    assert.equal(r2.stderr, 'Error: can only create exec sessions on running containers: container state improper\n')
    assert.equal((await store.conex(['rm', '-f', 'stopped1', 'created1'])).code, 0)
  })

  test('a paused container: 125, and exec works again after unpause', async () => {
    const p = await store.conex(['pause', 'c1'])
    assert.equal(p.code, 0, p.stderr)
    try {
      const r = await store.conex(['exec', 'c1', 'true'])
      assert.equal(r.code, 125)
      assert.equal(r.stderr, 'Error: container c1 is paused, unpause the container before exec\n')
    } finally {
      const u = await store.conex(['unpause', 'c1'])
      assert.equal(u.code, 0, u.stderr)
    }
    const again = await store.conex(['exec', 'c1', 'echo', 'ok'])
    assert.equal(again.out, 'ok\n')
    assert.equal(again.code, 0)
  })

  test('exit codes are recorded on the session (exec inspect)', async () => {
    const r = await store.conex(['exec', '-d', 'c1', 'sh', '-c', 'exit 42'])
    assert.equal(r.code, 0, r.stderr)
    const id = r.out.trim()
    assert.match(id, /^[0-9a-f]{64}$/)
    const s = await waitFor('the detached session to end', async () => { const x = await execInspect(store, id); return x.Running ? undefined : x })
    assert.equal(s.ExitCode, 42)
  })

  test('nothing left behind', async () => { await assertNothingLeft(store) })
})
