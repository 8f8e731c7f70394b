// `conex run -it` and `conex attach` under a real pseudo-terminal (test/fixtures/ptyrun.py): the container's pty takes
// the caller's window size (at the start, and at an attach) and follows its resizes (SIGWINCH), as podman's does.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { SKIP } from './exec-common'
import { runInPty, ptySizeIs, CONEX_BIN, makeStore, type Store, type PtyStep } from '../helpers'

describe('containers with a tty', { skip: SKIP }, () => {
  let store: Store
  const conex = (...args: string[]): string[] => [CONEX_BIN, ...store.flags, ...args]

  before(() => { store = makeStore('container-tty') })
  after(async () => { await store?.cleanup() })

  test('run -it: the pty starts at the caller\'s size and follows SIGWINCH', async () => {
    const steps: PtyStep[] = [{ wait: '# ' }, ...ptySizeIs(24, 80), { resize: [50, 100] }, ...ptySizeIs(50, 100), { send: 'exit 4\r' }]
    const r = await runInPty(conex('run', '--rm', '-it', 'busybox', 'sh'), { rows: 24, cols: 80, steps, timeout: 30 })
    assert.equal(r.timedOut, false, JSON.stringify(r.out))
    assert.ok(r.out.includes('SZ-42 24 80\r\n'), JSON.stringify(r.out))
    assert.ok(r.out.includes('SZ-42 50 100\r\n'), JSON.stringify(r.out))
    assert.equal(r.code, 4)
  })

  test('attach: the pty takes the attaching terminal\'s size, follows SIGWINCH; ctrl-p ctrl-q leaves it running', async () => {
    const c = await store.conex(['run', '-dit', '--name', 't1', 'busybox', 'sh'])
    assert.equal(c.stderr, '')
    assert.equal(c.code, 0)
    const steps: PtyStep[] = [...ptySizeIs(33, 77), { resize: [40, 90] }, ...ptySizeIs(40, 90), { send: '\x10\x11' }]
    const r = await runInPty(conex('attach', 't1'), { rows: 33, cols: 77, steps, timeout: 30 })
    assert.equal(r.timedOut, false, JSON.stringify(r.out))
    assert.ok(r.out.includes('SZ-42 33 77\r\n'), JSON.stringify(r.out))
    assert.ok(r.out.includes('SZ-42 40 90\r\n'), JSON.stringify(r.out))
    assert.equal(r.code, 0)
    const state = await store.conex(['inspect', '--format', '{{.State.Running}}', 't1'])
    assert.equal(state.out, 'true\n')
    const rm = await store.conex(['rm', '-f', 't1'])
    assert.equal(rm.code, 0)
  })
})
