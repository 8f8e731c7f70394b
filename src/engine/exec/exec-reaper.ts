// Records the end of exec sessions nobody is attached to (detached sessions, or an attached CLI that was killed):
// a running session whose exit file exists, or whose process and conmon are gone, is marked stopped and its bundle
// removed. Runs on every container sync, on container exit, and in the service's periodic sweep.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { EngineContext } from '../context'
import { emit, defer, perContext } from '../context'
import type { ContainerRecord, ExecSessionRecord } from '../types'
import { writeTx } from '../../store/db'
import { readExecExit, readExecPid, cleanupExecBundle, removeExecBundle, SPARE_OWNER_FILE } from '../../oci/conmon/exec-session'
import { isSameProcess, processStartTime, selfStartTime } from '../../util/proc'
import { trace } from '../../util/trace'

// How long conmon may take, once its starter is gone, to run the process or give up (its own setup takes far less).
const ABANDONED_START_GRACE_MS = 10_000

// While pid is 0 (a start in progress), pidStart holds the claim `exec-start:<starter pid>:<its start time>`, so that
// a starter killed before recording the pid (conex exec interrupted, a client gone) leaves no session shown running
// forever: the reaper sees the starter gone and adopts the process conmon started, or records the start as failed.
export function execStartClaim (): string {
  return `exec-start:${process.pid}:${selfStartTime()}`
}

// True only when `claim` (execStartClaim's) names a process that is gone; false for anything else.
export function claimantGone (claim: string): boolean {
  const m = /^exec-start:(\d+):(\d*)$/.exec(claim.trim())
  return m !== null && !isSameProcess(Number(m[1]), m[2])
}

// False only when the claim names a starter that is gone (rows without a claim keep the old answer: still starting).
const isStarterAlive = (s: ExecSessionRecord): boolean => !claimantGone(s.pidStart)

// The starter died: if the runtime ran the process (conmon wrote its pid), record it as the session's; true if so.
function adoptExecProcess (ctx: EngineContext, s: ExecSessionRecord, bundle: string): boolean {
  const pid = readExecPid(bundle, s.containerId)
  const pidStart = pid === undefined ? undefined : processStartTime(pid)
  if (pid === undefined || pidStart === undefined) return false
  return execTx(ctx, () => {
    const cur = ctx.execs.get(s.id)
    if (cur?.state !== 'running' || cur.pid !== 0 || cur.pidStart !== s.pidStart) return false
    ctx.execs.update(s.id, { pid, pidStart })
    return true
  })
}

// Exec session records are committed without an fsync of their own (store/db.ts, writeTx's `durable`).
export function execTx<T> (ctx: EngineContext, fn: () => T): T {
  return writeTx(ctx.db, fn, { durable: false })
}

// Marks a session stopped with `exitCode` unless someone already did; returns true when this call recorded it.
// The exit, its event and the pruning it allows are one transaction (one fsync), not three.
export function recordExecExit (ctx: EngineContext, s: ExecSessionRecord, exitCode: number): boolean {
  return execTx(ctx, () => {
    const cur = ctx.execs.get(s.id)
    if (cur === undefined || cur.state === 'stopped') return false
    const now = Date.now()
    ctx.execs.update(s.id, { state: 'stopped', exitCode: Math.max(-1, Math.min(255, exitCode)), endedAt: now })
    const started = cur.startedAt > 0 ? cur.startedAt : s.startedAt
    // name and command as exec_create has them: `events --filter container=NAME` and a one-line audit of the exit.
    const name = ctx.containers.get(s.containerId)?.name ?? ''
    emit(ctx, 'exec', 'exec_died', s.id, { containerID: s.containerId, name, command: s.config.command.join(' '), exitCode: String(exitCode), durationMs: String(started > 0 ? now - started : 0), execID: s.id })
    pruneExecSessionsThrottled(ctx, s.containerId)
    return true
  })
}

// The retention bounds at `now`: ended before `before` goes; beyond the newest `count` goes once ended before
// `graceBefore`.
function retentionBounds (ctx: EngineContext, now: number): { before: number, graceBefore: number, count: number } {
  return { before: now - ctx.cfg.execRetentionSeconds * 1000, graceBefore: now - ctx.cfg.execRetentionGraceSeconds * 1000, count: ctx.cfg.execRetentionCount }
}

// Drops ended sessions beyond the retention bound (time and count). Call inside a write transaction.
export function pruneExecSessions (ctx: EngineContext, containerId: string, now = Date.now()): number {
  return ctx.execs.prune(containerId, retentionBounds(ctx, now))
}

// The same at a session's create and exit, at most once a PRUNE_INTERVAL_MS per container and process: the delete
// was a quarter of the store's work per exec, and a container gains at most that long's worth of ended sessions
// beyond the bound until the next one (or the service's sweep, every 2 s). Call inside a write transaction.
const PRUNE_INTERVAL_MS = 1_000
const lastPrune = new WeakMap<EngineContext, Map<string, number>>()

export function pruneExecSessionsThrottled (ctx: EngineContext, containerId: string): void {
  if (due(lastPrune, ctx, containerId, PRUNE_INTERVAL_MS)) pruneExecSessions(ctx, containerId)
}

// Whether `intervalMs` has passed since the last time this returned true for `key` in this context (then now is).
function due (last: WeakMap<EngineContext, Map<string, number>>, ctx: EngineContext, key: string, intervalMs: number): boolean {
  const seen = perContext(last, ctx)
  const now = Date.now()
  if (now - (seen.get(key) ?? 0) < intervalMs) return false
  if (seen.size > 1000) seen.clear()
  seen.set(key, now)
  return true
}

// The same for every container that is over the bounds (the service's sweep, and each CLI command): a read first,
// a write transaction only when there is something to drop. Returns how many went.
export function pruneEndedExecSessions (ctx: EngineContext, now = Date.now()): number {
  const over = ctx.execs.containersOverBound(retentionBounds(ctx, now))
  if (over.length === 0) return 0
  return execTx(ctx, () => over.reduce((n, id) => n + pruneExecSessions(ctx, id, now), 0))
}

// Reaps one running session if it has ended; returns the exit code when it had.
export function reapExecSession (ctx: EngineContext, s: ExecSessionRecord, containerRunning: boolean): number | undefined {
  if (s.state !== 'running') return undefined
  const bundle = ctx.layout.execBundle(s.id)
  let code = readExecExit(bundle, s.containerId)
  if (code === undefined) {
    const alive = s.pid > 0 && isSameProcess(s.pid, s.pidStart)
    if (alive) return undefined
    // pid 0: the session is between "claimed" and "pid known"; leave it to its starter unless the container is gone
    // or the starter died (then adopt what conmon started, or, after a grace, record the start as failed).
    if (s.pid === 0 && containerRunning) {
      if (isStarterAlive(s) || Date.now() - s.startedAt < ABANDONED_START_GRACE_MS) return undefined
      if (adoptExecProcess(ctx, s, bundle)) return undefined
    }
    if (existsSync(bundle) && containerRunning) {
      // The process ended but conmon has not written the file yet; a later sync will see it.
      if (Date.now() - s.startedAt < 10_000) return undefined
    }
    code = containerRunning ? -1 : 137
  } else if (code === -1 && s.config.timeout > 0) {
    // conmon writes -1 when its -T timeout killed the process: a detached session timed out (as attached ones, 124).
    code = 124
  }
  // Whoever recorded the exit first (this call, conmon's exit command, an attached client), the bundle goes now; in
  // the service after the reply, off its event loop: an inspect right after the stream's end (every client's next
  // request) often records the exit here before the start's own handler does.
  recordExecExit(ctx, s, code)
  dropExecBundle(ctx, bundle)
  return code
}

// Removes an ended session's bundle (a dozen files, sockets and FIFOs) once its exit is recorded: in the service after
// the reply and off the event loop, in the CLI at once (see defer).
export function dropExecBundle (ctx: EngineContext, bundle: string): void {
  defer(ctx, () => { cleanupExecBundle(bundle); trace('exec: bundle removed') }, () => removeExecBundle(bundle).then(() => trace('exec: bundle removed')))
}

// How often one process looks for ended sessions of a running container. Every sync of a container (inspect, exec
// create, exec start) asks; with 128 execs in flight that was 128 exit files and /proc reads per request, the
// service's largest cost. Sessions this process attends record their own end; the others (detached, or a CLI
// killed) are housekeeping that a quarter-second delay does not hurt. A container that stopped is always reaped.
const REAP_INTERVAL_MS = 250
const lastReap = new WeakMap<EngineContext, Map<string, number>>()

// Reaps every running session of a container.
export async function reapExecSessions (ctx: EngineContext, c: ContainerRecord): Promise<void> {
  const running = c.state === 'running' || c.state === 'paused'
  if (running && !due(lastReap, ctx, c.id, REAP_INTERVAL_MS)) return
  // While the container runs, only started sessions can have ended: created ones (a client that never starts them:
  // hundreds, until they expire) are not read at every sync.
  for (const s of running ? ctx.execs.runningForContainer(c.id) : ctx.execs.activeForContainer(c.id)) {
    if (s.state === 'running') reapExecSession(ctx, s, running)
    // A session created but never started does not survive its container's run.
    else if (!running) execTx(ctx, () => ctx.execs.remove(s.id))
  }
  removeStaleExecBundles(ctx, c.id)
}

// How old a bundle without a session must be to go: a service's spare conmon (exec-prepare.ts) waits in a bundle whose
// session is not created yet, for at most 10 s.
const SESSIONLESS_BUNDLE_MS = 60_000

// The exit is recorded before the bundle goes: a client killed in between left the rest of it behind. A bundle whose
// session is gone (a service killed while it held a conmon prepared for a session since expired) goes too, once older
// than any spare lives, and a spare's as soon as the process that held it is gone. Only bundles that exist are looked
// at (one directory read), not every ended session the store keeps.
function removeStaleExecBundles (ctx: EngineContext, containerId: string): void {
  let names: string[]
  try { names = readdirSync(ctx.layout.execBundlesDir()) } catch { return }
  for (const id of names) {
    const s = ctx.execs.get(id)
    const bundle = ctx.layout.execBundle(id)
    if (s === undefined ? isOlderThan(bundle, SESSIONLESS_BUNDLE_MS) || isOrphanedSpare(bundle) : s.state === 'stopped' && s.containerId === containerId) cleanupExecBundle(bundle)
  }
}

function isOlderThan (path: string, ms: number): boolean {
  try { return Date.now() - statSync(path).mtimeMs > ms } catch { return false }
}

function isOrphanedSpare (bundle: string): boolean {
  try { return claimantGone(readFileSync(join(bundle, SPARE_OWNER_FILE), 'utf8')) } catch { return false }
}
