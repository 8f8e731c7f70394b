// A container stopped or killed while exec sessions are attached: the sessions end with it, every attached client
// (CLI, API with and without a tty, docker CLI) sees exit 137 within seconds, and nothing is left behind.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { CONEX_BIN, makeStore, type Store } from '../helpers'
import { api, apiExec, census, sleep, startService, until, type Service } from './lib'

const BODY = ['sh', '-c', 'echo started; exec sleep 600']

interface Client { what: string, started: Promise<void>, done: Promise<number | null> }

function cliClient (store: Store, name: string, extra: string[] = []): Client {
  const p = spawn(CONEX_BIN, [...store.flags, 'exec', ...extra, name, ...BODY], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let started: () => void = () => undefined
  const s = new Promise<void>((resolve) => { started = resolve })
  p.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('started')) started() })
  p.stderr.resume()
  return { what: `cli exec ${extra.join(' ')}`, started: s, done: new Promise((resolve) => p.on('close', (code) => resolve(code))) }
}

function apiClient (svc: Service, name: string, tty: boolean): Client {
  let started: () => void = () => undefined
  const s = new Promise<void>((resolve) => { started = resolve })
  const done = apiExec(svc.sock, name, { Cmd: BODY, Tty: tty }, { onStdout: (d) => { if (d.includes('started')) started() }, timeoutMs: 120_000 }).then((r) => r.exitCode)
  return { what: `api exec (tty ${tty})`, started: s, done }
}

function dockerClient (svc: Service, name: string): Client | undefined {
  if (!existsSync('/usr/local/bin/docker') && !existsSync('/usr/bin/docker')) return undefined
  const p = spawn('docker', ['exec', name, ...BODY], { env: { ...process.env, DOCKER_HOST: `unix://${svc.sock}` }, stdio: ['ignore', 'pipe', 'ignore'] })
  let started: () => void = () => undefined
  const s = new Promise<void>((resolve) => { started = resolve })
  p.stdout.on('data', (d: Buffer) => { if (d.includes('started')) started() })
  return { what: 'docker exec', started: s, done: new Promise((resolve) => p.on('close', (code) => resolve(code))) }
}

// One store and one service for the four ways; each way stops a container of its own.
let store: Store
let svc: Service
before(async () => { store = makeStore('stop-attach'); svc = await startService(store) })
after(async () => { await svc?.stop(); await store?.cleanup() })

for (const how of ['conex stop', 'conex kill', 'API stop', 'API kill'] as const) {
  test(`${how} while execs are attached: every client sees 137 promptly, nothing leaks`, { timeout: 180_000 }, async () => {
    const name = `victim-${how.replace(' ', '-')}`
    const run = await store.conex(['run', '-d', '--name', name, 'busybox', 'sleep', '100000'])
    assert.equal(run.code, 0, run.stderr)
    const id = run.out.trim()
    const clients = [cliClient(store, name), cliClient(store, name, ['-i']), apiClient(svc, name, false), apiClient(svc, name, true)]
    const d = dockerClient(svc, name)
    if (d !== undefined) clients.push(d)
    await Promise.race([Promise.all(clients.map((c) => c.started)), sleep(60_000).then(() => { throw new Error('sessions did not start') })])
    const t0 = Date.now()
    if (how === 'conex stop') assert.equal((await store.conex(['stop', '-t', '1', name])).code, 0)
    else if (how === 'conex kill') assert.equal((await store.conex(['kill', name])).code, 0)
    else if (how === 'API stop') assert.equal((await api(svc.sock, 'POST', `/v1.44/containers/${name}/stop?t=1`)).status, 204)
    else assert.equal((await api(svc.sock, 'POST', `/v1.44/containers/${name}/kill`)).status, 204)
    const codes = await Promise.race([Promise.all(clients.map((c) => c.done)), sleep(20_000).then(() => undefined)])
    assert.ok(codes !== undefined, `attached clients still waiting 20 s after ${how}`)
    const took = Date.now() - t0
    for (const [i, c] of clients.entries()) assert.equal(codes[i], 137, `${c.what} exited ${String(codes[i])}`)
    assert.ok(took < 15_000, `clients took ${took} ms to see the end`)
    await until(() => { const c = census(store, []); return c.conmons.length === 0 && c.execBundles.length === 0 && c.mounts.length === 0 }, 20_000, 'no conmon, bundle or mount left')
    const st = await store.conex(['inspect', '--format', '{{.State.Status}}', id])
    assert.equal(st.out.trim(), 'exited')
    assert.equal((await store.conex(['rm', name])).code, 0)
  })
}
