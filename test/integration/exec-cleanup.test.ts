// How exec sessions end when something else ends them: --timeout (124), the container stopped (137), the container
// removed with sessions running, the attached CLI killed. Each leaves no conmon, no bundle and no mount behind.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { SKIP, startFixture, assertNothingLeft, execIds, waitFor, bundles, killAtEachStep, assertAllEnded, killWhileRunning } from './exec-common'
import { CONEX_BIN, conmonsFor, mountsUnder, type Store, type RunResult } from '../helpers'

describe('exec cleanup', { skip: SKIP }, () => {
  let store: Store
  let c1: string

  before(async () => { ({ store, c1 } = await startFixture('exec-cleanup')) })
  after(async () => { await store?.cleanup() })

  // Starts a container `name`; returns its id.
  async function runContainer (name: string): Promise<string> {
    const r = await store.conex(['run', '-d', '--name', name, 'busybox', 'sleep', '100000'])
    assert.equal(r.code, 0, r.stderr)
    return r.out.trim()
  }

  // Waits until `ref` has `n` live sessions.
  const sessions = (ref: string, n: number): Promise<string[]> =>
    waitFor(`${n} running session(s) in ${ref}`, async () => { const ids = await execIds(store, ref); return ids.length === n ? ids : undefined })

  test('--timeout kills the command: exit 124, and the session is recorded as ended', async () => {
    const r = await store.conex(['exec', '--timeout', '1', 'c1', 'sleep', '30'], { timeoutMs: 25_000 })
    assert.equal(r.stderr, '')
    assert.equal(r.out, '')
    assert.equal(r.code, 124)
    assert.deepEqual(await execIds(store, 'c1'), [])
  })

  test('--timeout does not touch a command that finishes in time', async () => {
    const r = await store.conex(['exec', '--timeout', '30', 'c1', 'sh', '-c', 'echo fine; exit 4'])
    assert.equal(r.out, 'fine\n')
    assert.equal(r.code, 4)
  })

  test('stopping the container ends an attached exec with 137; then exec is refused with 125', async () => {
    await runContainer('c2')
    const attached = store.conex(['exec', 'c2', 'sleep', '100'], { timeoutMs: 30_000 })
    await sessions('c2', 1)
    const stop = await store.conex(['stop', '-t', '0', 'c2'], { timeoutMs: 30_000 })
    assert.equal(stop.code, 0, stop.stderr)
    const r = await attached
    assert.equal(r.code, 137)
    assert.equal(r.out, '')
    const again = await store.conex(['exec', 'c2', 'true'])
    assert.equal(again.code, 125)
    assert.equal(again.stderr, 'Error: can only create exec sessions on running containers: container state improper\n')
    await waitFor('c2\'s exec conmons to exit', () => conmonsFor(store.runroot).length === 1 ? true : undefined)
  })

  test('rm -f of a container with an attached and a detached session leaves no conmon, bundle or mount', async () => {
    const id = await runContainer('c3')
    const attached = store.conex(['exec', 'c3', 'sleep', '100'], { timeoutMs: 30_000 })
    const d = await store.conex(['exec', '-d', 'c3', 'sleep', '100'])
    assert.equal(d.code, 0, d.stderr)
    const ids = await sessions('c3', 2)
    assert.ok(ids.includes(d.out.trim()))
    assert.equal(conmonsFor(id).length, 3)
    const rm = await store.conex(['rm', '-f', 'c3'], { timeoutMs: 30_000 })
    assert.equal(rm.code, 0, rm.stderr)
    const r: RunResult = await attached
    assert.equal(r.code, 137)
    await waitFor('c3\'s conmons to exit', () => conmonsFor(id).length === 0 ? true : undefined)
    for (const s of ids) assert.ok(!bundles(store).includes(s), `bundle of ${s} left behind`)
    assert.deepEqual(mountsUnder(store.root).filter((m) => m.includes(id)), [])
    assert.deepEqual(mountsUnder(store.runroot).filter((m) => m.includes(id)), [])
  })

  test('a CLI killed while attached does not leave its session behind: it is reaped with its exit code', async () => {
    // The session waits for a file we create after the kill, so it is surely running when its client dies.
    // Sockets for stdout and stderr (Node's 'pipe'): the CLI keeps conmon's attach socket (with /dev/null or a shell's
    // pipes it would hand them to the process: exec-handover.test.ts kills that CLI too).
    const child = spawn(CONEX_BIN, [...store.flags, 'exec', 'c1', 'sh', '-c', 'while [ ! -e /tmp/go1 ]; do sleep 0.1; done; exit 9'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const s = await killWhileRunning(store, 'c1', child, '/tmp/go1')
    assert.equal(s.ExitCode, 9)
  })

  test('CLIs killed at each step of the start leave no session running, no bundle and no conmon', async () => {
    // CONEX_TRACE=1 names each step on stderr; the CLI is killed as it reports one: claimed and spawning conmon,
    // conmon released, attached (before the process runs), pid received (before it is recorded), exit recorded
    // (before the bundle is removed). Wherever the kill lands, the session must end up recorded and cleaned.
    const steps = ['exec: spawn conmon', 'exec: conmon released', 'exec: attached', 'exec: pid received', 'exec: exit recorded']
    await killAtEachStep(steps, (step) => {
      const script = step === 'exec: exit recorded' ? 'exit 3' : 'while [ ! -e /tmp/go2 ]; do sleep 0.1; done; exit 3'
      // stdout and stderr sockets: nothing the CLI could hand over, so the session goes through the attach socket
      // (a /dev/null stdout would be handed over and stderr copied through a pipe: exec-handover.test.ts).
      return spawn(CONEX_BIN, [...store.flags, 'exec', 'c1', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CONEX_TRACE: '1' } })
    })
    assert.equal((await store.conex(['exec', 'c1', 'touch', '/tmp/go2'])).code, 0)
    await assertAllEnded(store, 'c1', c1)
  })

  test('nothing left behind', async () => { await assertNothingLeft(store) })
})
