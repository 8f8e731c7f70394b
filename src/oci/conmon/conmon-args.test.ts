// conmon's argv for an exec session: through the attach socket (-l none, --exec-attach, -i for stdin) and with
// passthrough (-l passthrough: no --exec-attach, as nobody attaches, and no -i, as the process has our pipe itself).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execConmonArgs, type ExecConmonArgs } from './conmon-args'

const base: ExecConmonArgs = {
  containerId: 'c'.repeat(64), cuuid: 's'.repeat(64), name: 'web', runtimePath: '/usr/sbin/runc', runtimeArgs: ['--root', '/run/x'],
  bundle: '/run/b', pidFile: '/run/b/exec_pid', exitDir: '/run/b/exit', logPath: 'none', ociLog: '/run/b/oci-log',
  tty: false, stdin: true, processSpec: '/run/b/exec-process.json', preserveFds: 0, timeout: 0,
}

const after = (a: string[], flag: string): string | undefined => a[a.indexOf(flag) + 1]

test('through the attach socket: -l none, --exec-attach, -i', () => {
  const a = execConmonArgs(base)
  assert.equal(after(a, '-l'), 'none')
  assert.ok(a.includes('--exec-attach'))
  assert.ok(a.includes('-i'))
  assert.deepEqual(a.slice(a.indexOf('-e')), ['-e', '--exec-attach', '--exec-process-spec', '/run/b/exec-process.json'])
})

test('passthrough: -l passthrough, no --exec-attach, no -i or --leave-stdin-open', () => {
  const a = execConmonArgs({ ...base, logPath: 'passthrough', leaveStdinOpen: true, timeout: 5 })
  assert.equal(after(a, '-l'), 'passthrough')
  assert.ok(!a.includes('--exec-attach'))
  assert.ok(!a.includes('-i'))
  assert.ok(!a.includes('--leave-stdin-open'))
  assert.deepEqual(a.slice(a.indexOf('-e')), ['-e', '--exec-process-spec', '/run/b/exec-process.json', '-T', '5'])
})
