// The service spawns an exec session's conmon at create (src/engine/exec/exec-prepare.ts), and the start that follows
// uses it: the same bytes and exit code as ever, one conmon per session. A start that wants other arguments (a
// detached start of a session created attached) lets the prepared one go and spawns its own; a session never started
// keeps its conmon only for a while (10 s), and a service that stops takes its prepared conmons with it. A start that
// used one leaves a spare for the container's next session, which the next create takes (its id and its conmon) when
// it wants the same arguments, and lets go otherwise. One killed
// (SIGKILL) lets them go: they run nothing, and the session still starts, once. Nothing left behind in any case: no
// conmon, no bundle.
import { test, before, after, describe } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startApi, waitFor, type Api } from './lib'
import { CONEX_BIN } from '../helpers'
import { hijackStart, api as call } from '../reliability/lib'

const SPAWN = 'exec: spawn conmon'
const PREPARED = 'exec: conmon prepared'
const SPARE = 'exec: spare prepared'
const count = (log: string, what: string): number => log.split(what).length - 1

// The conmon processes serving exec session `id` (its argv names the session as -u): pid and argv.
function conmonProcs (id: string): Array<{ pid: number, args: string }> {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
  return out.split('\n').filter((l) => l.includes('/usr/bin/conmon') && l.includes(` -u ${id} `))
    .map((l) => { const t = l.trim(); const sp = t.indexOf(' '); return { pid: Number(t.slice(0, sp)), args: t.slice(sp + 1) } })
}
const conmonsOf = (id: string): number[] => conmonProcs(id).map((p) => p.pid)

const bundleOf = (a: Api, id: string): string => join(a.store.runroot, 'exec', id)
const bundles = (a: Api): string[] => existsSync(join(a.store.runroot, 'exec')) ? readdirSync(join(a.store.runroot, 'exec')) : []

async function create (a: Api, body: Record<string, unknown>): Promise<string> {
  const c = await call(a.sock, 'POST', '/v1.44/containers/p1/exec', body)
  assert.equal(c.status, 201, c.body)
  return c.json().Id as string
}

describe('API exec: conmon prepared at create', () => {
  let a: Api
  before(async () => {
    a = await startApi('prepare', { env: { CONEX_TRACE: '1' } })
    const r = await a.store.conex(['run', '-d', '--name', 'p1', 'busybox', 'sleep', '1000'])
    assert.equal(r.code, 0, r.stderr)
  })
  after(async () => { await a?.stop() })

  // The suite's first exec through this service: its trace holds this session's lines only.
  test('a created session has its conmon waiting; the start uses it: exact output, exit code, no second spawn', async () => {
    const id = await create(a, { AttachStdout: true, AttachStderr: true, Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 5'] })
    const [waiting] = await waitFor('the prepared conmon', () => { const p = conmonsOf(id); return p.length === 1 ? p : undefined })
    assert.ok(waiting > 0)
    // It runs the service's sealed copy of runc (src/oci/sealed-runtime.ts), through a link named runc.
    const link = join(a.store.runroot, 'sealed-runtime', String(a.proc.pid), 'runc')
    assert.ok(conmonProcs(id)[0].args.includes(` -r ${link} `), conmonProcs(id)[0].args)
    assert.match(readlinkSync(link), new RegExp(`^/proc/${a.proc.pid as number}/fd/\\d+$`))
    assert.equal(readlinkSync(readlinkSync(link)), '/memfd:conex-runc (deleted)')
    const r = await hijackStart(a.sock, id)
    assert.equal(r.status, 101)
    assert.equal(r.stdout.toString(), 'out\n')
    assert.equal(r.stderr.toString(), 'err\n')
    const ins = await call(a.sock, 'GET', `/v1.44/exec/${id}/json`)
    assert.equal(ins.json().ExitCode, 5)
    // the service's stderr reaches us asynchronously: wait for the session's last line
    await waitFor('the trace of the session\'s end', () => a.log().includes('exec: exit recorded') ? true : undefined)
    await waitFor('the spare for the next session', () => a.log().includes(SPARE) ? true : undefined)
    assert.equal(count(a.log(), SPAWN), 2, 'one conmon spawned for the session, at create, and the spare after its start')
    assert.equal(count(a.log(), PREPARED), 1)
    await waitFor('no conmon and no bundle left', () => conmonsOf(id).length === 0 && !existsSync(bundleOf(a, id)) ? true : undefined)
  })

  test('a start leaves a spare conmon for the container\'s next session: the next create takes its id and conmon', async () => {
    // What the first test left: the spare's bundle, whose name no session has yet, and its conmon waiting in it.
    const [spare] = await waitFor('the spare alone', () => { const b = bundles(a); return b.length === 1 ? b : undefined })
    assert.equal((await call(a.sock, 'GET', `/v1.44/exec/${spare}/json`)).status, 404)
    const waiting = conmonsOf(spare)
    assert.equal(waiting.length, 1)
    const spawns = count(a.log(), SPAWN)
    const id = await create(a, { AttachStdout: true, AttachStderr: true, Cmd: ['sh', '-c', 'echo next; echo err >&2; exit 3'] })
    assert.equal(id, spare, 'the session has the spare\'s id')
    assert.deepEqual(conmonsOf(id), waiting, 'and its conmon')
    const r = await hijackStart(a.sock, id)
    assert.equal(r.stdout.toString(), 'next\n')
    assert.equal(r.stderr.toString(), 'err\n')
    // A short process's start is written with its exit (one commit): its pid is there all the same.
    const ins = (await call(a.sock, 'GET', `/v1.44/exec/${id}/json`)).json()
    assert.equal(ins.ExitCode, 3)
    assert.ok(ins.Pid > 0, `pid ${ins.Pid}`)
    await waitFor('the next spare', () => count(a.log(), SPARE) === 2 ? true : undefined)
    assert.equal(count(a.log(), SPAWN), spawns + 1, 'no spawn for the session: only the next spare')
    await waitFor('no conmon and no bundle left', () => conmonsOf(id).length === 0 && !existsSync(bundleOf(a, id)) ? true : undefined)
  })

  test('a create that wants other arguments lets the spare go and takes an id of its own', async () => {
    const [spare] = await waitFor('the spare alone', () => { const b = bundles(a); return b.length === 1 ? b : undefined })
    const [waiting] = conmonsOf(spare)
    // Nothing attached: a session that docker's `exec -d` creates, whose conmon has an exit command and no passthrough.
    const id = await create(a, { Cmd: ['sh', '-c', 'echo detached > /tmp/spare-detached'] })
    assert.notEqual(id, spare)
    await waitFor('the spare\'s conmon and bundle to go', () => !conmonsOf(spare).includes(waiting) && !existsSync(bundleOf(a, spare)) ? true : undefined)
    assert.equal((await call(a.sock, 'POST', `/v1.44/exec/${id}/start`, { Detach: true })).status, 200)
    await waitFor('the detached session\'s end', async () => {
      const ins = (await call(a.sock, 'GET', `/v1.44/exec/${id}/json`)).json()
      return ins.Running === false && ins.ExitCode === 0 ? true : undefined
    })
    assert.equal((await a.store.conex(['exec', 'p1', 'cat', '/tmp/spare-detached'])).out, 'detached\n')
    await waitFor('no conmon and no bundle left', () => conmonsOf(id).length === 0 && !existsSync(bundleOf(a, id)) ? true : undefined)
  })

  test('the sweep leaves a bundle without a session while a spare could live in it, and removes it when older or its owner is gone', async () => {
    const young = 'a'.repeat(64)
    const old = 'b'.repeat(64)
    const orphan = 'c'.repeat(64)
    for (const id of [young, old, orphan]) mkdirSync(bundleOf(a, id), { recursive: true })
    const longAgo = new Date(Date.now() - 120_000)
    utimesSync(bundleOf(a, old), longAgo, longAgo)
    // a spare whose service is gone (no such pid), and one held by a live process (this one: pid and start time)
    writeFileSync(join(bundleOf(a, orphan), 'spare-owner'), 'exec-start:4194303:1')
    const stat = readFileSync('/proc/self/stat', 'utf8')
    writeFileSync(join(bundleOf(a, young), 'spare-owner'), `exec-start:${process.pid}:${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`)
    // A CLI command syncs the container (a new process: no reap interval to wait for), as the service's sweep does.
    assert.equal((await a.store.conex(['exec', 'p1', 'true'])).code, 0)
    assert.ok(!existsSync(bundleOf(a, old)), 'the old one removed')
    assert.ok(!existsSync(bundleOf(a, orphan)), 'the orphaned spare\'s removed')
    assert.ok(existsSync(bundleOf(a, young)), 'the young one kept')
    rmSync(bundleOf(a, young), { recursive: true })
  })

  test('a detached start of a session created attached lets the prepared conmon go and spawns its own', async () => {
    const id = await create(a, { AttachStdout: true, AttachStderr: true, Cmd: ['sh', '-c', 'while [ ! -e /tmp/prepare-go ]; do sleep 0.1; done; echo detached > /tmp/prepare-detached'] })
    const [prepared] = await waitFor('the prepared conmon', () => { const p = conmonProcs(id); return p.length === 1 ? p : undefined })
    assert.match(prepared.args, / -l passthrough /)
    assert.doesNotMatch(prepared.args, /--exit-command/)
    const st = await call(a.sock, 'POST', `/v1.44/exec/${id}/start`, { Detach: true })
    assert.equal(st.status, 200, st.body)
    // The session runs under a conmon spawned for a detached start: its exit command and attach socket, no passthrough.
    const [own] = await waitFor('the session\'s conmon', () => { const p = conmonProcs(id); return p.length === 1 && p[0].pid !== prepared.pid ? p : undefined })
    assert.match(own.args, /--exit-command/)
    assert.doesNotMatch(own.args, / -l passthrough /)
    assert.equal((await a.store.conex(['exec', 'p1', 'touch', '/tmp/prepare-go'])).code, 0)
    await waitFor('the detached process\'s end', async () => {
      const ins = (await call(a.sock, 'GET', `/v1.44/exec/${id}/json`)).json()
      return ins.Running === false && ins.ExitCode === 0 ? true : undefined
    })
    assert.equal((await a.store.conex(['exec', 'p1', 'cat', '/tmp/prepare-detached'])).out, 'detached\n')
    await waitFor('no conmon and no bundle left', () => conmonsOf(id).length === 0 && !existsSync(bundleOf(a, id)) ? true : undefined)
  })

  test('at most 64 prepared conmons wait at once; sessions created beyond that start as well, each with its output', { timeout: 120_000 }, async () => {
    const ids: string[] = []
    for (let i = 0; i < 70; i++) ids.push(await create(a, { AttachStdout: true, AttachStderr: true, Cmd: ['echo', `n${i}`] }))
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const waiting = ids.filter((id) => conmonsOf(id).length === 1).length
    assert.ok(waiting >= 1 && waiting <= 64, `${waiting} conmons waiting`)
    for (const [i, id] of ids.entries()) {
      const r = await hijackStart(a.sock, id)
      assert.equal(r.stdout.toString(), `n${i}\n`)
    }
    await waitFor('no conmon and no bundle left', () => ids.every((id) => conmonsOf(id).length === 0 && !existsSync(bundleOf(a, id))) ? true : undefined)
  })

  test('a session never started: its conmon goes after 10 s with its bundle, and a later start still runs', { timeout: 60_000 }, async () => {
    const id = await create(a, { AttachStdout: true, AttachStderr: true, Cmd: ['echo', 'late'] })
    await waitFor('the prepared conmon', () => conmonsOf(id).length === 1 ? true : undefined)
    assert.ok(existsSync(bundleOf(a, id)))
    await waitFor('the unused conmon to go', () => conmonsOf(id).length === 0 && !existsSync(bundleOf(a, id)) ? true : undefined, 25_000)
    const ins = (await call(a.sock, 'GET', `/v1.44/exec/${id}/json`)).json()
    assert.equal(ins.Running, false)
    assert.equal(ins.ExitCode, null)
    const r = await hijackStart(a.sock, id)
    assert.equal(r.stdout.toString(), 'late\n')
    assert.equal((await call(a.sock, 'GET', `/v1.44/exec/${id}/json`)).json().ExitCode, 0)
    await waitFor('no conmon and no bundle left', () => conmonsOf(id).length === 0 && !existsSync(bundleOf(a, id)) ? true : undefined)
  })

  test('a service that stops takes its prepared conmons and their bundles with it', async () => {
    const ids = [await create(a, { AttachStdout: true, Cmd: ['true'] }), await create(a, { Cmd: ['true'] })]
    await waitFor('both prepared conmons', () => ids.every((id) => conmonsOf(id).length === 1) ? true : undefined)
    a.proc.kill('SIGTERM')
    await waitFor('the service to exit', () => a.proc.exitCode !== null ? true : undefined, 15_000)
    assert.equal(a.proc.exitCode, 0)
    for (const id of ids) {
      await waitFor(`session ${id.slice(0, 12)}'s conmon to go`, () => conmonsOf(id).length === 0 ? true : undefined)
      assert.ok(!existsSync(bundleOf(a, id)), 'its bundle removed')
    }
    const left = existsSync(join(a.store.runroot, 'exec')) ? readdirSync(join(a.store.runroot, 'exec')) : []
    assert.deepEqual(left, [])
    assert.deepEqual(readdirSync(join(a.store.runroot, 'sealed-runtime')), [], 'its link to the sealed runtime removed')
  })
})

describe('API exec: a service killed while it holds a prepared conmon', () => {
  let a: Api
  let second: ChildProcess | undefined
  before(async () => {
    a = await startApi('prepare-crash')
    const r = await a.store.conex(['run', '-d', '--name', 'p1', 'busybox', 'sleep', '1000'])
    assert.equal(r.code, 0, r.stderr)
  })
  after(async () => {
    second?.kill('SIGKILL')
    await a?.stop()
  })

  test('the released conmon runs nothing; a new service starts the session, which runs once', { timeout: 90_000 }, async () => {
    const id = await create(a, { AttachStdout: true, AttachStderr: true, Cmd: ['sh', '-c', 'echo ran >> /tmp/prepare-once; echo done'] })
    await waitFor('the prepared conmon', () => conmonsOf(id).length === 1 ? true : undefined)
    a.proc.kill('SIGKILL')
    // Its start pipe closed, conmon runs the runtime, which finds no process spec and fails.
    await waitFor('the orphaned conmon to end', () => conmonsOf(id).length === 0 ? true : undefined)
    const none = await a.store.conex(['exec', 'p1', 'cat', '/tmp/prepare-once'])
    assert.equal(none.code, 1, 'the command did not run')
    const sock = join(a.store.runroot, 'api2.sock')
    second = spawn(CONEX_BIN, [...a.store.flags, 'system', 'service', '--time', '0', `unix://${sock}`], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    second.stderr?.on('data', (d: Buffer) => { err += d.toString() })
    await waitFor('the second service', () => err.includes('listening on') ? true : undefined)
    // The killed service's link to its sealed runtime goes; the second service has its own.
    assert.deepEqual(readdirSync(join(a.store.runroot, 'sealed-runtime')), [String(second.pid)])
    const r = await hijackStart(sock, id)
    assert.equal(r.status, 101)
    assert.equal(r.stdout.toString(), 'done\n')
    assert.equal(r.stderr.toString(), '')
    assert.equal((await call(sock, 'GET', `/v1.44/exec/${id}/json`)).json().ExitCode, 0)
    assert.equal((await a.store.conex(['exec', 'p1', 'cat', '/tmp/prepare-once'])).out, 'ran\n', 'it ran exactly once')
    await waitFor('no conmon and no bundle left', () => conmonsOf(id).length === 0 && !existsSync(bundleOf(a, id)) ? true : undefined)
    second.kill('SIGTERM')
    await new Promise((resolve) => second?.once('exit', resolve))
    second = undefined
  })
})
