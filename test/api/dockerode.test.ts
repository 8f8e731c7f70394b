// dockerode (docker-modem) against the service: exec start without hijack (plain 200 stream), with hijack and
// stdin (101 upgrade, half-close), tty, demuxStream, inspect's ExitCode, resize, and the status codes it maps to
// errors.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { PassThrough, type Duplex } from 'node:stream'
import Docker from 'dockerode'
import { startApi, waitFor, type Api } from './lib'

let api: Api
let docker: Docker

before(async () => {
  api = await startApi('dockerode')
  docker = new Docker({ socketPath: api.sock })
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '1000'], name: 'dc' })
  await c.start()
})
after(async () => { await api.stop() })

// Collects a multiplexed stream into stdout and stderr with dockerode's own demuxer.
async function collect (stream: NodeJS.ReadableStream): Promise<{ out: Buffer, err: Buffer }> {
  const out = new PassThrough()
  const err = new PassThrough()
  const o: Buffer[] = []
  const e: Buffer[] = []
  out.on('data', (b: Buffer) => o.push(b))
  err.on('data', (b: Buffer) => e.push(b))
  docker.modem.demuxStream(stream, out, err)
  await new Promise((resolve) => stream.on('end', resolve))
  return { out: Buffer.concat(o), err: Buffer.concat(e) }
}

test('exec.start() without hijack: a plain 200 stream, demuxed; inspect gives the exit code', async () => {
  const ex = await docker.getContainer('dc').exec({ Cmd: ['sh', '-c', 'printf out; printf err >&2; exit 3'], AttachStdout: true, AttachStderr: true })
  const stream = await ex.start({})
  const r = await collect(stream)
  assert.equal(r.out.toString(), 'out')
  assert.equal(r.err.toString(), 'err')
  const i = await ex.inspect()
  assert.equal(i.ExitCode, 3)
  assert.equal(i.Running, false)
})

test('exec.start({hijack, stdin}): 1 MiB through stdin, end() closes it, output intact', async () => {
  const input = randomBytes(1024 * 1024)
  const ex = await docker.getContainer('dc').exec({ Cmd: ['sh', '-c', 'sha256sum; echo closed >&2'], AttachStdin: true, AttachStdout: true, AttachStderr: true })
  const stream = await ex.start({ hijack: true, stdin: true }) as Duplex
  const done = collect(stream)
  stream.end(input)
  const r = await done
  assert.equal(r.out.toString(), `${createHash('sha256').update(input).digest('hex')}  -\n`)
  assert.equal(r.err.toString(), 'closed\n')
  assert.equal((await ex.inspect()).ExitCode, 0)
})

test('a tty exec streams raw bytes (no frames), and resize reaches the terminal', async () => {
  const ex = await docker.getContainer('dc').exec({ Cmd: ['sh', '-c', 'read line; stty size; echo "got $line"'], AttachStdin: true, AttachStdout: true, Tty: true })
  const stream = await ex.start({ hijack: true, stdin: true, Tty: true }) as Duplex
  const chunks: Buffer[] = []
  stream.on('data', (b: Buffer) => chunks.push(b))
  const ended = new Promise((resolve) => stream.on('end', resolve))
  await waitFor('the exec to run', async () => (await ex.inspect()).Running ? true : undefined)
  await ex.resize({ h: 21, w: 77 })
  stream.write('typed\n')
  await ended
  assert.equal(Buffer.concat(chunks).toString(), 'typed\r\n21 77\r\ngot typed\r\n')
  assert.equal((await ex.inspect()).ExitCode, 0)
})

test('inspect of a running exec: Running true, ExitCode null; after it ends, the code', async () => {
  const ex = await docker.getContainer('dc').exec({ Cmd: ['sh', '-c', 'sleep 0.5; exit 5'] })
  await ex.start({ Detach: true })
  const running = await ex.inspect()
  assert.equal(running.Running, true)
  assert.equal(running.ExitCode, null)
  const ended = await waitFor('the exec to end', async () => { const i = await ex.inspect(); return i.Running ? undefined : i })
  assert.equal(ended.ExitCode, 5)
})

test('errors come back with Docker\'s status codes: 404 unknown exec, 409 second start, 409 stopped container', async () => {
  await assert.rejects(docker.getExec('f'.repeat(64)).inspect(), (e: { statusCode?: number }) => e.statusCode === 404)
  const ex = await docker.getContainer('dc').exec({ Cmd: ['true'] })
  await ex.start({ Detach: true })
  await assert.rejects(ex.start({ Detach: true }), (e: { statusCode?: number }) => e.statusCode === 409)
  const stopped = await docker.createContainer({ Image: 'busybox', Cmd: ['true'], name: 'stopped' })
  await assert.rejects(stopped.exec({ Cmd: ['true'] }), (e: { statusCode?: number, json?: { message?: string } }) => e.statusCode === 409)
  await assert.rejects(docker.getContainer('dc').exec({ AttachStdout: true } as Docker.ExecCreateOptions), (e: { statusCode?: number, json?: { message?: string } }) => e.statusCode === 400 && e.json?.message === 'No exec command specified')
})

test('containers: inspect, list and version through dockerode', async () => {
  const i = await docker.getContainer('dc').inspect()
  assert.equal(i.Name, '/dc')
  assert.equal(i.State.Running, true)
  assert.deepEqual(i.Config.Cmd, ['sleep', '1000'])
  const list = await docker.listContainers({ filters: { name: ['dc'] } })
  assert.deepEqual(list.map((c) => c.Names), [['/dc']])
  const v = await docker.version()
  assert.equal(v.ApiVersion, '1.47')
})
