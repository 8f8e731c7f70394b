import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ExecSessionRecord } from '../types'
import { dockerExecInspect } from './exec-inspect'

const session = (over: Partial<ExecSessionRecord>, detachKeys: string): ExecSessionRecord => ({
  id: 'e1', containerId: 'c1', state: 'running', pid: 42, pidStart: '7', conmonPid: 41, exitCode: null, createdAt: 1, startedAt: 2, endedAt: 0,
  config: { command: ['sh', '-c', 'exit 3'], env: [], user: 'nobody', workdir: '', tty: true, attachStdin: true, attachStdout: true, attachStderr: false, privileged: false, detachKeys, preserveFds: 0, timeout: 0 },
  ...over,
})

test('exec inspect: Docker ExecInspectResponse, ExitCode null while running, detach keys as base64 bytes', () => {
  assert.deepEqual(dockerExecInspect(session({}, 'ctrl-p,ctrl-q')), {
    ID: 'e1', Running: true, ExitCode: null,
    ProcessConfig: { tty: true, entrypoint: 'sh', arguments: ['-c', 'exit 3'], privileged: false, user: 'nobody' },
    OpenStdin: true, OpenStderr: false, OpenStdout: true, CanRemove: false, ContainerID: 'c1', DetachKeys: 'EBE=', Pid: 42,
  })
  const ended = dockerExecInspect(session({ state: 'stopped', exitCode: 3 }, 'ctrl-@,a,ctrl-['))
  assert.equal(ended.Running, false)
  assert.equal(ended.ExitCode, 3)
  assert.equal(ended.CanRemove, true)
  assert.equal(ended.DetachKeys, Buffer.from([0, 97, 27]).toString('base64'))
  assert.equal(dockerExecInspect(session({}, '')).DetachKeys, '')
  // No user asked for: no `user` key (omitempty), as dockerd shows it.
  const noUser = session({}, '')
  noUser.config.user = ''
  assert.deepEqual(dockerExecInspect(noUser).ProcessConfig, { tty: true, entrypoint: 'sh', arguments: ['-c', 'exit 3'], privileged: false })
})
