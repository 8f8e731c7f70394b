// `conex exec -t` under a real pseudo-terminal (test/fixtures/ptyrun.py): the initial window size, exact line endings
// (the caller's terminal is raw, so \r\n stays \r\n), TERM, SIGWINCH resizes, and detach keys in every shape.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { SKIP, startFixture, assertNothingLeft, execIds, execInspect, waitFor, bundles } from './exec-common'
import { runInPty, CONEX_BIN, makeStore, type Store, type PtyStep } from '../helpers'

describe('exec with a tty', { skip: SKIP }, () => {
  let store: Store
  const conex = (...args: string[]): string[] => [CONEX_BIN, ...store.flags, ...args]

  before(async () => { ({ store } = await startFixture('exec-tty')) })
  after(async () => { await store?.cleanup() })

  test('exec -it: stty size shows the caller\'s window, exactly "37 123\\r\\n"', async () => {
    const r = await runInPty(conex('exec', '-it', 'c1', 'stty', 'size'), { rows: 37, cols: 123 })
    assert.equal(r.timedOut, false)
    assert.equal(r.out, '37 123\r\n')
    assert.equal(r.code, 0)
  })

  test('exec -t without -i works and also leaves \\r\\n alone', async () => {
    const r = await runInPty(conex('exec', '-t', 'c1', 'sh', '-c', 'stty size; echo "[$TERM]"'), { rows: 37, cols: 123 })
    assert.equal(r.timedOut, false)
    assert.equal(r.out, '37 123\r\n[xterm]\r\n')
    assert.equal(r.code, 0)
  })

  test('TERM=xterm with -t, unset without, kept when given with -e', async () => {
    const [t, plain, given] = await Promise.all([['-t'], [], ['-t', '-e', 'TERM=vt100']].map((flags) =>
      store.conex(['exec', ...flags, 'c1', 'sh', '-c', 'echo "[$TERM]"'])))
    assert.equal(t.out, '[xterm]\r\n')
    assert.equal(t.code, 0)
    assert.equal(plain.out, '[]\n')
    assert.equal(given.out, '[vt100]\r\n')
  })

  test('with a tty stderr arrives on stdout (one pty), and the exit code still comes through', async () => {
    const r = await store.conex(['exec', '-t', 'c1', 'sh', '-c', 'echo to-err >&2; exit 3'])
    assert.equal(r.out, 'to-err\r\n')
    assert.equal(r.stderr, '')
    assert.equal(r.code, 3)
  })

  test('exec -it: a shell takes typed input and exits with its status', async () => {
    const steps: PtyStep[] = [{ wait: '# ' }, { send: 'echo $((6*7))\r' }, { wait: '42\r\n' }, { send: 'exit 5\r' }]
    const r = await runInPty(conex('exec', '-it', 'c1', 'sh'), { steps })
    assert.equal(r.timedOut, false)
    assert.ok(r.out.includes('\r\n42\r\n'), JSON.stringify(r.out))
    assert.equal(r.code, 5)
  })

  test('the caller\'s terminal is raw during the session (as podman\'s MakeRaw) and as it was once conex exits', async () => {
    const raw = { echo: false, icanon: false, isig: false, icrnl: false, opost: false, onlcr: false }
    const it = await runInPty(conex('exec', '-it', 'c1', 'sh'), { steps: [{ wait: '# ' }, { snap: 'during' }, { send: 'exit 5\r' }] })
    assert.equal(it.code, 5)
    assert.deepEqual(it.termios.during, { ...raw, onlcr: it.termios.before.onlcr })
    assert.deepEqual(it.termios.after, it.termios.before)
    assert.equal(it.termios.before.echo, true)
    // -t without -i: raw too (the container's pty makes the \r\n), and restored.
    const t = await runInPty(conex('exec', '-t', 'c1', 'sh', '-c', 'echo go; sleep 1; echo done'), { steps: [{ wait: 'go\r\n' }, { snap: 'during' }] })
    assert.equal(t.out, 'go\r\ndone\r\n')
    assert.deepEqual(t.termios.during, { ...raw, onlcr: t.termios.before.onlcr })
    assert.deepEqual(t.termios.after, t.termios.before)
  })

  test('SIGWINCH: resizing the caller\'s terminal resizes the session\'s', async () => {
    // The loop ends only once the new size has reached the container's pty (bounded by the pty timeout).
    const steps: PtyStep[] = [
      { wait: '# ' }, { send: 'stty size\r' }, { wait: '\r\n24 80\r\n' },
      { resize: [50, 100] },
      { send: 'until [ "$(stty size)" = "50 100" ]; do sleep 0.1; done; echo SZ-$((6*7)) $(stty size)\r' },
      { wait: 'SZ-42 50 100\r\n' },
      { resize: [10, 40] },
      { send: 'until [ "$(stty size)" = "10 40" ]; do sleep 0.1; done; echo SZ-$((6*7)) $(stty size)\r' },
      { wait: 'SZ-42 10 40\r\n' },
      { send: 'exit\r' },
    ]
    const r = await runInPty(conex('exec', '-it', 'c1', 'sh'), { rows: 24, cols: 80, steps, timeout: 30 })
    assert.equal(r.timedOut, false, JSON.stringify(r.out))
    assert.ok(r.out.includes('SZ-42 50 100\r\n'))
    assert.ok(r.out.includes('SZ-42 10 40\r\n'))
    assert.equal(r.code, 0)
  })

  // Detaches with `keys` typed as the given steps; checks the CLI exits 0 at once and the session runs on; ends it.
  async function detachAndCheck (extra: string[], keys: PtyStep[]): Promise<void> {
    const before = await execIds(store, 'c1')
    const r = await runInPty(conex('exec', '-it', ...extra, 'c1', 'sh', '-c', 'echo ready; cat'), { steps: [{ wait: 'ready\r\n' }, ...keys] })
    assert.equal(r.timedOut, false, JSON.stringify(r.out))
    assert.equal(r.out, 'ready\r\n')
    assert.equal(r.code, 0)
    const after = await execIds(store, 'c1')
    const fresh = after.filter((id) => !before.includes(id))
    assert.equal(fresh.length, 1, `sessions before ${JSON.stringify(before)} after ${JSON.stringify(after)}`)
    const s = await execInspect(store, fresh[0])
    assert.equal(s.Running, true)
    assert.equal(s.ExitCode, null)
    assert.ok(s.Pid > 0)
    // The session outlived its client: end it from the host and see it recorded.
    process.kill(s.Pid, 'SIGKILL')
    const ended = await waitFor('the detached session to be reaped', async () => { const x = await execInspect(store, fresh[0]); return x.Running ? undefined : x })
    assert.equal(ended.ExitCode, 137)
    await waitFor('its bundle to go', () => bundles(store).includes(fresh[0]) ? undefined : true)
  }

  test('detach: ctrl-p,ctrl-q in one read', async () => {
    await detachAndCheck([], [{ send: '\x10\x11' }])
  })

  test('detach: ctrl-p and ctrl-q in two reads', async () => {
    await detachAndCheck([], [{ send: '\x10' }, { sleep: 0.3 }, { send: '\x11' }])
  })

  test('detach: custom --detach-keys ctrl-a,x', async () => {
    await detachAndCheck(['--detach-keys', 'ctrl-a,x'], [{ send: '\x01x' }])
  })

  test('--detach-keys "" disables detaching: ctrl-p ctrl-q reach the process', async () => {
    const r = await runInPty(conex('exec', '-it', '--detach-keys', '', 'c1', 'sh', '-c', 'stty -ixon; echo ready; head -c 3 | od -An -tx1'), {
      steps: [{ wait: 'ready\r\n' }, { send: '\x10\x11z\n' }],
    })
    assert.equal(r.timedOut, false, JSON.stringify(r.out))
    assert.ok(r.out.includes('\r\n 10 11 7a\r\n'), JSON.stringify(r.out))
    assert.equal(r.code, 0)
  })

  test('ctrl-p followed by another key is forwarded intact (also across two reads)', async () => {
    const r = await runInPty(conex('exec', '-it', 'c1', 'sh', '-c', 'echo ready; cat -v'), {
      steps: [{ wait: 'ready\r\n' }, { send: '\x10' }, { sleep: 0.3 }, { send: 'a\n' }, { wait: '^Pa\r\n^Pa\r\n' }, { send: '\x10b\n' }, { wait: '^Pb\r\n^Pb\r\n' }, { send: '\x04' }],
    })
    assert.equal(r.timedOut, false, JSON.stringify(r.out))
    // The pty echoes the typed line, then cat -v prints it.
    assert.equal(r.out, 'ready\r\n^Pa\r\n^Pa\r\n^Pb\r\n^Pb\r\n')
    assert.equal(r.code, 0)
  })

  test('an invalid --detach-keys is refused: 125', async () => {
    // -t without -i: with piped stdin, -it is refused before the keys are read (the input device is not a TTY).
    const r = await store.conex(['exec', '-t', '--detach-keys', 'ctrl-1', 'c1', 'true'])
    assert.equal(r.code, 125)
    assert.equal(r.stderr, 'Error: invalid detach keys "ctrl-1": unknown key "ctrl-1"\n')
  })

  test('nothing left behind', async () => { await assertNothingLeft(store) })
})

describe('exec -it with piped stdin', () => {
  const store = makeStore('exec-notty')
  before(async () => {
    const r = await store.conex(['run', '-d', '--name', 'c1', 'busybox', 'sleep', '100000'])
    assert.equal(r.code, 0, r.stderr)
  })
  after(async () => { await store.cleanup() })

  test('is refused with 125, as the docker CLI refuses it, instead of hanging on a pty that never sees EOF', async () => {
    const r = await store.conex(['exec', '-it', 'c1', 'cat'], { input: 'hi\n', timeoutMs: 30_000 })
    assert.equal(r.code, 125)
    assert.equal(r.stderr, 'Error: the input device is not a TTY: drop -t to pipe data into the command\n')
    const ids = await store.conex(['inspect', '--format', '{{len .ExecIDs}}', 'c1'])
    assert.equal(ids.out, '0\n')
  })
})
