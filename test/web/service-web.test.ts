// The real service, end to end: `conex system service --web=...` prints the console's URL and writes web-url; the
// exec WebSocket works on the API's unix socket with the peer's uid in the audit trail; `?record` on exec start;
// Docker's /events carries the exec's create, start and die; SIGTERM removes web-url.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { CONEX_BIN, makeStore, runProgram, type Store } from '../helpers'
import { runWs, frame, text } from './lib'

const DOCKER = (() => { try { return execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim() } catch { return '' } })()

let store: Store
let service: ChildProcess
let serviceErr = ''
let sock: string
let webUrl: string

// One HTTP request to the API's unix socket; resolves with the status and the body.
function api (method: string, path: string, body?: unknown): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body)
    const req = request({ socketPath: sock, method, path, headers: data === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } }, (res) => {
      let out = ''
      res.on('data', (d: Buffer) => { out += d.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: out }))
    })
    req.on('error', reject)
    req.end(data)
  })
}

async function waitFor<T> (what: string, fn: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = fn()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; service said: ${serviceErr}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const createExec = async (cmd: string[], extra: Record<string, unknown> = {}): Promise<string> => {
  const r = await api('POST', '/containers/c1/exec', { Cmd: cmd, AttachStdout: true, AttachStderr: true, ...extra })
  assert.equal(r.status, 201, r.body)
  return (JSON.parse(r.body) as { Id: string }).Id
}

before(async () => {
  store = makeStore('service-web')
  const r = await store.conex(['run', '-d', '--name', 'c1', 'busybox', 'sleep', '1000'])
  assert.equal(r.code, 0, r.stderr)
  sock = join(store.runroot, 'api.sock')
  service = spawn(CONEX_BIN, [...store.flags, 'system', 'service', '--time', '0', '--web=127.0.0.1:0', `unix://${sock}`], { stdio: ['ignore', 'ignore', 'pipe'] })
  service.stderr?.on('data', (d: Buffer) => { serviceErr += d.toString() })
  webUrl = await waitFor('the web-url file', () => existsSync(join(store.runroot, 'web-url')) && existsSync(sock) ? readFileSync(join(store.runroot, 'web-url'), 'utf8').trim() : undefined)
})
after(async () => {
  if (service !== undefined && service.exitCode === null) {
    service.kill('SIGTERM')
    await new Promise((resolve) => service.once('close', resolve))
  }
  if (store !== undefined) await store.cleanup()
})

test('the service prints the console\'s URL, the same as in web-url, and the console answers with the token only', async () => {
  assert.match(webUrl, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/)
  await waitFor('the URL on stderr', () => serviceErr.includes(webUrl) ? true : undefined, 5000)
  const base = webUrl.replace(/\?token=.*$/, '')
  assert.equal((await fetch(base)).status, 401)
  assert.equal((await fetch(`${base}api/containers`)).status, 401)
  const ok = await fetch(`${base}api/containers`, { headers: { Authorization: `Bearer ${new URL(webUrl).searchParams.get('token') ?? ''}` } })
  assert.equal(ok.status, 200)
  assert.equal(((await ok.json()) as Array<{ name: string }>)[0].name, 'c1')
})

test('exec over WebSocket on the API socket; the audit names the socket peer', async () => {
  const since = (Date.now() / 1000).toFixed(3)
  const id = await createExec(['sh', '-c', 'read x; echo got-$x; echo oops >&2; exit 3'], { AttachStdin: true })
  const r = await runWs(`ws+unix://${sock}:/conex/v1/exec/${id}/attach`, { onOpen: (w) => { w.send(frame(0, 'it\n')) } })
  assert.equal(text(r, 1), 'got-it\n')
  assert.equal(text(r, 2), 'oops\n')
  assert.equal(r.status?.reason, 'NonZeroExitCode')
  assert.equal(r.closeCode, 1000)
  const missing = await runWs(`ws+unix://${sock}:/conex/v1/exec/${'f'.repeat(64)}/attach`)
  assert.equal(missing.httpStatus, 404)
  const ev = await store.conex(['events', '--stream=false', '--since', since, '--filter', `exec=${id}`, '--format', 'json'])
  const byAction = new Map(ev.out.trim().split('\n').map((l) => JSON.parse(l) as { Status: string, Attributes: Record<string, string> }).map((e) => [e.Status, e.Attributes]))
  assert.match(byAction.get('exec_create')?.requester ?? '', /^uid=0 pid=\d+$/)
  assert.match(byAction.get('exec_start')?.requester ?? '', /^uid=0 pid=\d+$/)
  assert.equal(byAction.get('exec_died')?.exitCode, '3')

  // Docker's /events: the same exec as container events (exec_create: CMD, exec_start: CMD, exec_die).
  const until = (Date.now() / 1000 + 1).toFixed(3)
  const events = await api('GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ type: ['container'] }))}`)
  assert.equal(events.status, 200)
  const docker = events.body.trim().split('\n').map((l) => JSON.parse(l) as { Action: string, Actor: { ID: string, Attributes: Record<string, string> } })
  const actions = docker.filter((e) => e.Actor.Attributes.execID === id || e.Action.startsWith('exec_')).map((e) => e.Action)
  assert.ok(actions.some((a) => a.startsWith('exec_create')), actions.join(', '))
  assert.ok(actions.some((a) => a.startsWith('exec_start')), actions.join(', '))
  assert.ok(actions.includes('exec_die'), actions.join(', '))

  // And the docker CLI reads them so, where it is installed.
  if (DOCKER !== '') {
    const d = await runProgram(DOCKER, ['events', '--since', since, '--until', until, '--filter', 'type=container', '--format', '{{.Action}} {{.Actor.Attributes.exitCode}}'], { env: { ...process.env, DOCKER_HOST: `unix://${sock}` }, timeoutMs: 30_000 })
    assert.equal(d.code, 0, d.stderr)
    assert.match(d.out, /^exec_die 3$/m)
  }
})

test('POST /exec/{id}/start?record=PATH records the session as asciicast v2', async () => {
  const id = await createExec(['sh', '-c', 'echo api-recorded'])
  const path = join(store.runroot, 'api.cast')
  const r = await api('POST', `/exec/${id}/start?record=${encodeURIComponent(path)}`, { Detach: false, Tty: false })
  assert.equal(r.status, 200)
  const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown)
  assert.equal((lines[0] as { version: number }).version, 2)
  assert.equal(lines.slice(1).map((e) => (e as [number, string, string])[2]).join(''), 'api-recorded\n')
})

test('SIGTERM stops the service and removes web-url', async () => {
  service.kill('SIGTERM')
  const code = await new Promise<number | null>((resolve) => service.once('close', resolve))
  assert.equal(code, 0, serviceErr)
  assert.equal(existsSync(join(store.runroot, 'web-url')), false)
})
