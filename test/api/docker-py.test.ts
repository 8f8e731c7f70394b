// docker-py against the service: runs test/api/docker_py_test.py (unittest) with DOCKER_HOST pointed at a fresh
// service and a running container; each Python test is reported here as one subtest line in the failure message.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { runProgram } from '../helpers'
import { startApi, type Api } from './lib'

const PY_TEST = resolve(__dirname, '../../../test/api/docker_py_test.py')
const skip = (() => {
  try { execFileSync('python3', ['-c', 'import docker'], { stdio: 'ignore' }); return false } catch { return 'python3 with the docker package (docker-py) is not installed' }
})()

let api: Api

before(async () => {
  if (skip !== false) return
  api = await startApi('docker-py')
  const r = await api.store.conex(['run', '-d', '--name', 'pyc', 'busybox', 'sleep', '1000'])
  assert.equal(r.code, 0, r.stderr)
})
after(async () => { if (skip === false) await api.stop() })

test('docker-py: ping, version, containers.run, exec_run (demux, stream, 127, env/workdir/user, tty), hijacked socket with half-close, inspect, resize, events', { skip }, async () => {
  const r = await runProgram('python3', [PY_TEST], { env: { ...process.env, DOCKER_HOST: api.host, CONTAINER: 'pyc' }, timeoutMs: 300_000 })
  assert.equal(r.code, 0, `docker_py_test.py failed:\n${r.stderr}`)
  assert.match(r.stderr, /Ran 11 tests/)
  assert.match(r.stderr, /\nOK\n/)
})
