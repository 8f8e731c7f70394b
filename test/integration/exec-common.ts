// Shared set-up for the exec integration suites (test/integration/exec-*.test.ts): a store with a running busybox
// container `c1`, bounded polling, and the "nothing left behind" check each suite ends with. Real conmon + runc.
import assert from 'node:assert/strict'
import { execFileSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { makeStore, conmonsFor, mountsUnder, type Store, type RunResult } from '../helpers'

// Integration suites need root, conmon and runc; elsewhere they are skipped (with the reason) rather than failed.
export const SKIP: string | false = (() => {
  if (process.getuid?.() !== 0) return 'needs root (runs real containers)'
  for (const bin of ['conmon', 'runc']) {
    try { execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }) } catch { return `needs ${bin}` }
  }
  return false
})()

export interface ExecFixture { store: Store, c1: string }

// A fresh store with `run -d --name c1 busybox sleep 100000`; returns c1's full id.
export async function startFixture (name: string): Promise<ExecFixture> {
  const store = makeStore(name)
  const r = await store.conex(['run', '-d', '--name', 'c1', 'busybox', 'sleep', '100000'])
  assert.equal(r.stderr, '')
  assert.equal(r.code, 0)
  assert.match(r.out, /^[0-9a-f]{64}\n$/)
  return { store, c1: r.out.trim() }
}

// Polls `fn` every `everyMs` until it returns something other than undefined; fails after `ms`.
export async function waitFor<T> (what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 20_000, everyMs = 100): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex')

// The first line of stderr: where conex puts its one-line error.
export const firstLine = (r: RunResult): string => r.stderr.split('\n')[0]

export interface ExecInspect { ID: string, Running: boolean, ExitCode: number | null, Pid: number, ContainerID: string, ProcessConfig: { entrypoint: string, arguments: string[], tty: boolean, user: string } }

export async function execInspect (store: Store, id: string): Promise<ExecInspect> {
  const r = await store.conex(['exec', 'inspect', id])
  assert.equal(r.code, 0, r.stderr)
  const items = JSON.parse(r.out) as ExecInspect[]
  assert.equal(items.length, 1)
  return items[0]
}

// The container's live exec sessions (inspect's ExecIDs: created or running).
export async function execIds (store: Store, ref: string): Promise<string[]> {
  const r = await store.conex(['inspect', ref])
  assert.equal(r.code, 0, r.stderr)
  return (JSON.parse(r.out) as Array<{ ExecIDs: string[] | null }>)[0].ExecIDs ?? []
}

export const execDir = (store: Store): string => join(store.runroot, 'exec')

// Session bundles still on disk.
export const bundles = (store: Store): string[] => existsSync(execDir(store)) ? readdirSync(execDir(store)) : []

// What every suite ends with: its sessions have ended and left no bundle; after `rm -f --all` no conmon, no mount.
export async function assertNothingLeft (store: Store): Promise<void> {
  await waitFor('exec bundles to be removed', () => bundles(store).length === 0 ? true : undefined, 20_000, 200)
  const rm = await store.conex(['rm', '-f', '--all'], { timeoutMs: 60_000 })
  assert.equal(rm.code, 0, rm.stderr)
  await waitFor('conmon processes to exit', () => conmonsFor(store.runroot).length === 0 ? true : undefined, 20_000, 200)
  assert.deepEqual(mountsUnder(store.root), [])
  assert.deepEqual(mountsUnder(store.runroot), [])
  assert.deepEqual(bundles(store), [])
}

// SIGKILLs `child`, a CLI attached to the container's only session, once that session has a pid; then creates `goFile`
// in `ref` (the session waits for it) and returns the session as recorded at its end, once its bundle and conmon
// are gone too.
export async function killWhileRunning (store: Store, ref: string, child: ChildProcess, goFile: string): Promise<ExecInspect> {
  const closed = new Promise((resolve) => child.on('close', resolve))
  const [id] = await waitFor(`the session in ${ref} to be listed`, async () => { const ids = await execIds(store, ref); return ids.length === 1 ? ids : undefined })
  await waitFor('the session\'s pid to be recorded', async () => (await execInspect(store, id)).Pid > 0 ? true : undefined)
  child.kill('SIGKILL')
  await closed
  assert.equal((await store.conex(['exec', ref, 'touch', goFile])).code, 0)
  const s = await waitFor('the orphaned session to be recorded', async () => { const x = await execInspect(store, id); return x.Running ? undefined : x }, 30_000, 250)
  await waitFor('its bundle and conmon to go', () => bundles(store).includes(id) || conmonsFor(id).length > 0 ? undefined : true, 30_000, 250)
  return s
}

// SIGKILLs a CLI at each of `steps` (CONEX_TRACE=1 names them on its stderr): `start(step)` spawns one with its stderr
// piped to us. Resolves once each has been killed at its step (or failed to report it: an assertion).
export async function killAtEachStep (steps: string[], start: (step: string) => ChildProcess): Promise<void> {
  for (const step of steps) {
    const child = start(step)
    // 'exit', not 'close': what the CLI started may hold its stderr (a handed-over pipe) until it is let go.
    const exited = new Promise((resolve) => child.on('exit', resolve))
    let seen = ''
    child.stderr?.on('data', (d: Buffer) => { seen += d.toString(); if (seen.includes(step)) child.kill('SIGKILL') })
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    await exited
    clearTimeout(killer)
    assert.ok(seen.includes(step), `the CLI never reported "${step}": ${seen}`)
  }
}

// After killAtEachStep and the go-file: every session of the container ended, no bundle, only its own conmon left.
export async function assertAllEnded (store: Store, ref: string, containerId: string): Promise<void> {
  await waitFor('every session to end and its bundle and conmon to go', async () => {
    for (const id of await execIds(store, ref)) if ((await execInspect(store, id)).Running) return undefined
    return bundles(store).length === 0 && conmonsFor(containerId).length === 1 ? true : undefined
  }, 60_000, 500)
}
