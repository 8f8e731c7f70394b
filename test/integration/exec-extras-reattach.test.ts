// Re-attaching to exec sessions (issue #7): `exec -it c1 sh` under a real pty, detached with ctrl-p,ctrl-q, then
// `exec attach` types into the same shell and exits with its code; and several `exec attach --no-stdin` watchers
// see the output of one detached session at once.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { SKIP, startFixture, execInspect, execIds, waitFor } from './exec-common'
import { CONEX_BIN, ptySizeIs, runInPty, type Store } from '../helpers'

describe('exec attach', { skip: SKIP }, () => {
  let store: Store

  before(async () => { ({ store } = await startFixture('exec-extras-reattach')) })
  after(async () => { if (store !== undefined) await store.cleanup() })

  test('detach with ctrl-p,ctrl-q, re-attach, type, exit 5: the attach exits 5', async () => {
    const first = await runInPty([CONEX_BIN, ...store.flags, 'exec', '-it', 'c1', 'sh'], {
      steps: [{ wait: '# ' }, { send: 'echo first-$((1+1))\r' }, { wait: 'first-2\r\n' }, { send: '\x10\x11' }],
      timeout: 20,
    })
    assert.equal(first.timedOut, false, first.out)
    assert.equal(first.code, 0, 'detaching exits 0')
    const [id] = await execIds(store, 'c1')
    assert.match(id, /^[0-9a-f]{64}$/)
    assert.equal((await execInspect(store, id)).Running, true, 'the shell goes on after the detach')

    const again = await runInPty([CONEX_BIN, ...store.flags, 'exec', 'attach', id], {
      // Nothing is printed on attach; what is typed before the attach reads stdin waits in the pty.
      steps: [{ send: 'echo again-$((2+1))\r' }, { wait: 'again-3\r\n' }, { send: 'exit 5\r' }],
      timeout: 20,
    })
    assert.equal(again.timedOut, false, again.out)
    assert.match(again.out, /again-3\r\n/)
    assert.equal(again.code, 5)
    const s = await execInspect(store, id)
    assert.equal(s.Running, false)
    assert.equal(s.ExitCode, 5)
  })

  test('exec attach: a detached tty session takes the attaching terminal\'s size, then follows its resizes', async () => {
    const d = await store.conex(['exec', '-dit', 'c1', 'sh'])
    assert.equal(d.code, 0, d.stderr)
    const id = d.out.trim()
    const r = await runInPty([CONEX_BIN, ...store.flags, 'exec', 'attach', id], {
      rows: 33, cols: 77, steps: [...ptySizeIs(33, 77), { resize: [40, 90] }, ...ptySizeIs(40, 90), { send: 'exit 6\r' }], timeout: 30,
    })
    assert.equal(r.timedOut, false, JSON.stringify(r.out))
    assert.ok(r.out.includes('SZ-42 33 77\r\n'), JSON.stringify(r.out))
    assert.ok(r.out.includes('SZ-42 40 90\r\n'), JSON.stringify(r.out))
    assert.equal(r.code, 6)
  })

  test('two --no-stdin watchers of one detached session both see its output and its exit code', async () => {
    // The session ticks until told to stop, so no timing is assumed about when the watchers connect (conmon does not
    // replay output): it is stopped once both have seen ticks, and both must then see the same last ticks and `done`.
    const d = await store.conex(['exec', '-d', 'c1', 'sh', '-c', 'i=0; while [ ! -e /tmp/stop ]; do i=$((i+1)); echo tick$i; sleep 0.2; done; echo done'])
    assert.equal(d.code, 0, d.stderr)
    const id = d.out.trim()
    const watchers = [0, 1].map(() => {
      const child = spawn(CONEX_BIN, [...store.flags, 'exec', 'attach', '--no-stdin', id], { stdio: ['ignore', 'pipe', 'pipe'] })
      const w = { out: '', err: '', code: new Promise<number | null>((resolve) => child.once('close', resolve)), child }
      child.stdout.on('data', (b: Buffer) => { w.out += b.toString() })
      child.stderr.on('data', (b: Buffer) => { w.err += b.toString() })
      return w
    })
    try {
      await waitFor('both watchers to see ticks', () => watchers.every((w) => /tick\d+\n/.test(w.out)) ? true : undefined, 30_000)
      const stop = await store.conex(['exec', 'c1', 'touch', '/tmp/stop'])
      assert.equal(stop.code, 0, stop.stderr)
      const codes = await Promise.race([
        Promise.all(watchers.map((w) => w.code)),
        new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('watchers did not exit within 20 s')), 20_000)),
      ])
      assert.deepEqual(codes, [0, 0], watchers.map((w) => w.err).join('\n'))
    } finally {
      for (const w of watchers) w.child.kill('SIGKILL')
    }
    for (const w of watchers) {
      assert.equal(w.err, '')
      // Whatever each one saw is a run of consecutive ticks, ending with done.
      const ticks = w.out.split('\n').slice(0, -2).map((l) => Number(/^tick(\d+)$/.exec(l)?.[1] ?? NaN))
      assert.ok(w.out.endsWith('\ndone\n') && ticks.length > 0 && ticks.every((n, i) => n === ticks[0] + i), `watcher saw ${JSON.stringify(w.out)}`)
    }
    const tails = watchers.map((w) => w.out.split('\n').slice(-3).join('\n'))
    assert.equal(tails[0], tails[1], 'both saw the same last tick and done')
    await waitFor('the session to be recorded as ended', async () => (await execInspect(store, id)).Running ? undefined : true, 10_000)
    assert.equal((await execInspect(store, id)).ExitCode, 0)
  })

  test('attaching to a session that has ended is refused (125)', async () => {
    const d = await store.conex(['exec', '-d', 'c1', 'true'])
    const id = d.out.trim()
    await waitFor('the session to end', async () => (await execInspect(store, id)).Running ? undefined : true, 10_000)
    const r = await store.conex(['exec', 'attach', id])
    assert.equal(r.code, 125)
    assert.match(r.stderr, /is not running/)
  })
})
