// Crash safety: the service or a CLI SIGKILLed while exec sessions run (conmon owns them: they go on, and their
// exit codes are recorded afterwards), `conex start`, `create` and `rm` SIGKILLed at each phase (the store stays
// consistent, no phantom "running" container), and the SQLite settings that make a committed change survive.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { CONEX_BIN, makeStore, runProgram, type Store } from '../helpers'
import { api, census, hijackStart, sleep, startService, until } from './lib'

const Database = require('better-sqlite3') as typeof import('better-sqlite3')

// Exec sessions of a container straight from the database: what any later conex process will believe.
function sessions (store: Store): Array<{ id: string, state: string, exit_code: number | null, container_id: string }> {
  const db = new Database(join(store.root, 'conex.db'), { readonly: true, timeout: 60_000 })
  try { return db.prepare('SELECT id, state, exit_code, container_id FROM exec_sessions').all() as any } finally { db.close() }
}

async function runWorker (store: Store, name: string): Promise<string> {
  const r = await store.conex(['run', '-d', '--name', name, 'busybox', 'sleep', '100000'])
  assert.equal(r.code, 0, r.stderr)
  return r.out.trim()
}

// The sessions' body: wait for /tmp/go (so that all of them run when the crash comes, however slow the host), then
// exit 7. `release` creates /tmp/go.
const GATED = ['sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.2; done; exit 7']
const release = async (store: Store, name: string): Promise<void> => { assert.equal((await store.conex(['exec', name, 'touch', '/tmp/go'])).code, 0) }

// Gated session processes in a container, from its process list.
async function sleepers (store: Store, name: string): Promise<number> {
  const r = await store.conex(['top', name])
  return r.out.split('\n').filter((l) => l.includes('/tmp/go')).length
}

test('sqlite: WAL and synchronous=FULL on every connection; a commit survives a SIGKILL right after it', async () => {
  const store = makeStore('crash-sqlite')
  try {
    const { openDb, writeTx } = require('../../src/store/db') as typeof import('../../src/store/db')
    const db = openDb(store.root)
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
    assert.equal(db.pragma('synchronous', { simple: true }), 2, 'synchronous must be FULL (2)')
    assert.ok((db.pragma('busy_timeout', { simple: true }) as number) >= 5000, 'writers must wait for the lock, not fail')
    db.close()
    // A second process commits and is killed at once; the row must be there for the next reader.
    const script = `const { openDb, writeTx } = require(${JSON.stringify(require.resolve('../../src/store/db'))});
      const db = openDb(${JSON.stringify(store.root)});
      writeTx(db, () => db.prepare("INSERT INTO events (time_ns, type, action, actor_id, attributes) VALUES (1, 'test', 'committed', 'x', '{}')").run());
      process.kill(process.pid, 'SIGKILL')`
    const r = await runProgram(process.execPath, ['-e', script])
    assert.equal(r.code, 137, r.stderr)
    const again = openDb(store.root)
    const n = again.prepare("SELECT COUNT(*) AS n FROM events WHERE action = 'committed'").get() as { n: number }
    assert.equal(n.n, 1)
    assert.equal(again.pragma('synchronous', { simple: true }), 2)
    void writeTx
    again.close()
  } finally { await store.cleanup() }
})

test('service SIGKILLed while 20 attached exec sessions run: they go on, clients end promptly, the restarted service records exit 7', { timeout: 180_000 }, async () => {
  const store = makeStore('crash-svc')
  let svc = await startService(store)
  try {
    const name = 'crash-svc'
    await runWorker(store, name)
    const ids: string[] = []
    let heads = 0
    const clients: Array<Promise<unknown>> = []
    for (let i = 0; i < 18; i++) {
      const c = await api(svc.sock, 'POST', `/v1.44/containers/${name}/exec`, { AttachStdout: true, AttachStderr: true, Cmd: GATED })
      assert.equal(c.status, 201, c.body)
      ids.push(c.json().Id)
      clients.push(hijackStart(svc.sock, ids[i], { onSocket: () => { heads++ } }))
    }
    // Two docker CLI clients too, when docker is installed: they must exit with an error, not hang.
    const docker: ChildProcess[] = []
    const dockerExits: Array<Promise<number | null>> = []
    const hasDocker = existsSync('/usr/local/bin/docker') || existsSync('/usr/bin/docker')
    for (let i = 0; i < (hasDocker ? 2 : 0); i++) {
      const p = spawn('docker', ['exec', name, ...GATED], { env: { ...process.env, DOCKER_HOST: `unix://${svc.sock}` }, stdio: 'ignore' })
      docker.push(p)
      dockerExits.push(new Promise((resolve) => p.on('exit', (code) => resolve(code))))
    }
    await until(async () => heads === 18 && await sleepers(store, name) === 18 + docker.length, 60_000, 'all sessions running')
    const killedAt = Date.now()
    await svc.kill()
    // Every attached client sees the end of its connection at once: no hang.
    await Promise.all(clients)
    const codes = await Promise.race([Promise.all(dockerExits), sleep(20_000).then(() => 'hang')])
    assert.notEqual(codes, 'hang', 'a docker exec client hung after the service died')
    for (const c of codes as number[]) assert.notEqual(c, 0, 'docker exec must report the lost connection as an error')
    assert.ok(Date.now() - killedAt < 20_000)
    // conmon owns the sessions: they still run.
    assert.equal(await sleepers(store, name), 18 + docker.length, 'sessions must survive the service')
    assert.equal(census(store).conmons.length, 18 + docker.length)
    svc = await startService(store, { sock: svc.sock })
    await release(store, name)
    // The restarted service's sweep records the exits with nobody asking (the database says so)...
    await until(() => sessions(store).filter((s) => s.state === 'stopped' && s.exit_code === 7).length === 18 + docker.length, 30_000, 'the sweep to record 20 exits')
    // ...and the API reports them.
    for (const id of ids) {
      const r = await api(svc.sock, 'GET', `/v1.44/exec/${id}/json`)
      assert.equal(r.status, 200)
      assert.equal(r.json().Running, false)
      assert.equal(r.json().ExitCode, 7)
    }
    await until(() => { const c = census(store); return c.conmons.length === 0 && c.execBundles.length === 0 }, 20_000, 'no exec conmon or bundle left')
  } finally {
    await svc.stop()
    await store.cleanup()
  }
})

test('CLI SIGKILLed while 20 attached exec sessions run: they go on and later commands record exit 7', { timeout: 180_000 }, async () => {
  const store = makeStore('crash-cli')
  try {
    const name = 'crash-cli'
    const cid = await runWorker(store, name)
    const procs: ChildProcess[] = []
    for (let i = 0; i < 20; i++) procs.push(spawn(CONEX_BIN, [...store.flags, 'exec', name, ...GATED], { stdio: 'ignore' }))
    await until(async () => await sleepers(store, name) === 20, 60_000, '20 sessions running')
    const exits = procs.map((p) => new Promise((resolve) => { if (p.exitCode !== null || p.signalCode !== null) resolve(null); else p.on('exit', resolve) }))
    for (const p of procs) p.kill('SIGKILL')
    await Promise.all(exits)
    assert.equal(await sleepers(store, name), 20, 'sessions must survive their CLI')
    const ids = sessions(store).filter((s) => s.container_id === cid).map((s) => s.id)
    assert.equal(ids.length, 20)
    await release(store, name)
    await until(async () => await sleepers(store, name) === 0, 30_000, 'the sessions to end')
    for (const id of ids) {
      const r = await store.conex(['exec', 'inspect', '--format', '{{.Running}} {{.ExitCode}}', id])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.out.trim(), 'false 7', `session ${id}`)
    }
    await until(() => { const c = census(store, [cid]); return c.conmons.length === 0 && c.execBundles.length === 0 }, 20_000, 'no exec conmon or bundle left')
  } finally { await store.cleanup() }
})

// Runs conex with CONEX_TRACE=1 and SIGKILLs it as soon as stderr shows `label` (or after `delayMs` past it).
function killAt (store: Store, args: string[], label: string, delayMs = 0): Promise<{ killed: boolean, stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(CONEX_BIN, [...store.flags, ...args], { env: { ...process.env, CONEX_TRACE: '1' }, stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    let killed = false
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString()
      if (!killed && err.includes(label)) {
        killed = true
        if (delayMs === 0) p.kill('SIGKILL'); else setTimeout(() => p.kill('SIGKILL'), delayMs)
      }
    })
    p.on('exit', (_code, sig) => resolve({ killed: sig === 'SIGKILL', stderr: err }))
  })
}

// A container's state as inspect says, and whether its process really exists.
async function truth (store: Store, name: string): Promise<{ state: string, pid: number, alive: boolean }> {
  const r = await store.conex(['inspect', '--format', '{{.State.Status}} {{.State.Pid}}', name])
  assert.equal(r.code, 0, `inspect after the crash: ${r.stderr}`)
  const [state, pid] = r.out.trim().split(' ')
  return { state, pid: Number(pid), alive: Number(pid) > 0 && existsSync(`/proc/${pid}`) }
}

const START_PHASES = ['start: claimed', 'start: storage ready', 'start: rootfs mounted, spec written', 'start: created under conmon', 'start: runtime started', 'start: pid recorded']

test('conex start SIGKILLed at each phase: no phantom running container, the next start works', { timeout: 300_000 }, async () => {
  const store = makeStore('crash-start')
  try {
    for (const [i, phase] of START_PHASES.entries()) {
      const name = `start-${i}`
      assert.equal((await store.conex(['create', '--name', name, 'busybox', 'sleep', '100000'])).code, 0)
      const k = await killAt(store, ['start', name], phase)
      assert.ok(k.killed, `conex start never reached "${phase}": ${k.stderr}`)
      const t = await truth(store, name)
      // Whatever the store says must be true: running means a live process, anything else means none runs.
      if (t.state === 'running') assert.ok(t.alive, `${phase}: inspect says running with pid ${t.pid}, but no such process`)
      else assert.ok(['created', 'exited'].includes(t.state), `${phase}: state ${t.state}`)
      if (t.state !== 'running') {
        const s = await store.conex(['start', name])
        assert.equal(s.code, 0, `${phase}: start after the crash: ${s.stderr}`)
      }
      const e = await store.conex(['exec', name, 'echo', 'alive'])
      assert.equal(e.out, 'alive\n', `${phase}: exec after the crash: ${e.stderr}`)
      const rm = await store.conex(['rm', '-f', name])
      assert.equal(rm.code, 0, rm.stderr)
    }
    const c = census(store)
    assert.deepEqual([c.conmons, c.execBundles, c.mounts], [[], [], []])
    assert.equal((await store.conex(['ps', '-a', '-q'])).out, '')
  } finally { await store.cleanup() }
})

test('conex create and rm SIGKILLed midway: the store stays consistent, the next command finishes the job', { timeout: 300_000 }, async () => {
  const store = makeStore('crash-create')
  try {
    // create, killed a little later each time after the CLI starts.
    for (const delay of [0, 20, 40, 80, 160]) {
      const name = `create-${delay}`
      await killAt(store, ['create', '--name', name, 'busybox', 'sleep', '100000'], 'cli: main', delay)
      const ls = await store.conex(['ps', '-a', '--format', '{{.Names}}'])
      assert.equal(ls.code, 0, ls.stderr)
      if (ls.out.split('\n').includes(name)) {
        // It exists: it must start and work.
        const s = await store.conex(['start', name])
        assert.equal(s.code, 0, `create killed after ${delay} ms, then start: ${s.stderr}`)
        assert.equal((await store.conex(['exec', name, 'true'])).code, 0)
      } else {
        // It does not: the name is free.
        const c = await store.conex(['create', '--name', name, 'busybox', 'sleep', '100000'])
        assert.equal(c.code, 0, `create killed after ${delay} ms, then create again: ${c.stderr}`)
      }
    }
    // rm -f of running containers, killed at several points: the next rm finishes, nothing is left behind.
    for (const delay of [0, 30, 60, 120, 240]) {
      const name = `rm-${delay}`
      await runWorker(store, name)
      await killAt(store, ['rm', '-f', name], 'cli: main', delay)
      const again = await store.conex(['rm', '-f', '--ignore', name])
      assert.equal(again.code, 0, `rm killed after ${delay} ms, then rm: ${again.stderr}`)
      const ls = await store.conex(['ps', '-a', '--format', '{{.Names}}'])
      assert.ok(!ls.out.split('\n').includes(name), `${name} still listed: ${ls.out}`)
    }
    await store.conex(['rm', '-f', '--all'])
    const c = census(store)
    assert.deepEqual([c.conmons, c.execBundles, c.mounts], [[], [], []])
    // A container's conmon finishes its exit command after the container is gone: give it that moment.
    await until(() => conmonCount(store) === 0, 20_000, 'no container conmon left')
  } finally { await store.cleanup() }
})

// conmon processes of any kind started for this store.
function conmonCount (store: Store): number {
  const { conmonsFor } = require('../helpers') as typeof import('../helpers')
  return conmonsFor(store.runroot).length
}
