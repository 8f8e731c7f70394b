// The service spawns an exec session's conmon when the session is created, not when it is started: conmon's own
// start (exec, a dozen shared libraries, glib) then runs while the reply goes out and the client sends its start
// request, instead of between that request and the runtime. Docker clients create and start at once (docker CLI,
// docker-py, dockerode): the start finds conmon waiting for its first start byte, and only the process spec and that
// byte are left before the runtime runs.
//
// The prepared conmon is used only by a start whose conmon arguments are exactly those it was spawned with (attached
// or detached, a tty or not, stdin: guessed at create from what the session attaches). Any other start, and any
// session not started within UNUSED_MS, lets it go: it is killed while it still waits for its first byte (nothing
// ran), and its bundle removed. At most MAX_PREPARED wait at a time. A conmon whose service dies is released by the
// closed start pipe and finds no process spec (the one it was given is written only by the start that takes it): the
// runtime fails, nothing runs, and the bundle is left to the sweep or to the session's start.
//
// A start that took a prepared conmon also leaves a spare for the container's next session (prepareSpare): a conmon
// spawned while this session's runtime runs, under an id chosen for a session not yet created. The container's next
// create whose conmon would get the same arguments (the id aside) takes that id and that conmon, so that no spawn
// runs between its reply and its start (a client creating and starting sessions one after another, as CI jobs and
// health checks do). One spare per container, at most MAX_SPARES, each for UNUSED_MS; a create that wants other
// arguments lets it go. Its bundle has no session until then: the sweep leaves such bundles alone while they are
// younger than a spare can be, unless the process named in it (SPARE_OWNER_FILE) is gone (exec-reaper.ts).
import { perContext, type EngineContext } from '../context'
import { spawnConmonExec, cleanupExecBundle, type ConmonExecSpawnOptions, type SpawnedExec } from '../../oci/conmon/exec-session'
import { trace } from '../../util/trace'
import { execStartClaim } from './exec-reaper'

const UNUSED_MS = 10_000
// At most this many wait at once: a client creating execs in a loop without starting them gets no more processes
// than this from it (each later create's start spawns its conmon then, as before).
export const MAX_PREPARED = 64

interface Prepared {
  /** The spawn options, as compared with a start's. */
  key: string
  bundle: string
  /** conmon waiting for its first start byte; undefined when the spawn failed (the start spawns its own). */
  conmon: Promise<SpawnedExec | undefined>
  timer: NodeJS.Timeout
  /** Set once it is being let go: a start waits for that before it spawns into the same bundle. */
  dropped?: Promise<void>
}

const prepared = new WeakMap<EngineContext, Map<string, Prepared>>()

// The runtime is the context's own (an object, the same for every session).
const keyOf = (o: ConmonExecSpawnOptions): string => JSON.stringify({ ...o, runtime: undefined })

// A conmon spawned on the loop's next turn (after the caller's reply, or its start byte), let go after UNUSED_MS.
function spawnPrepared (spawn: ConmonExecSpawnOptions, label: string, unused: () => void, owner?: string): Prepared {
  const p: Prepared = {
    key: keyOf(spawn),
    bundle: spawn.bundle,
    conmon: new Promise((resolve) => setImmediate(resolve)).then(() => spawnConmonExec(spawn, owner))
      .then((c) => { trace(label); return c }, () => undefined),
    timer: setTimeout(unused, UNUSED_MS),
  }
  p.timer.unref()
  return p
}

/** Spawns the conmon a start of session `id` with these options will use (after the caller's reply, on the loop). */
export function prepareConmon (ctx: EngineContext, id: string, spawn: ConmonExecSpawnOptions): void {
  const m = perContext(prepared, ctx)
  if (m.has(id) || m.size >= MAX_PREPARED) return
  m.set(id, spawnPrepared(spawn, 'exec: conmon prepared', () => { void dropPrepared(ctx, id) }))
}

export const MAX_SPARES = 16

interface Spare { id: string, p: Prepared }
const spares = new WeakMap<EngineContext, Map<string, Spare>>()

/**
 * Spawns a spare conmon for container `containerId`'s next session, under `id` with `spawn` (the options a session
 * with that id would be spawned with), unless the container has one. Call once the current start byte went out.
 */
export function prepareSpare (ctx: EngineContext, containerId: string, id: string, spawn: ConmonExecSpawnOptions): void {
  const m = perContext(spares, ctx)
  if (m.has(containerId) || m.size >= MAX_SPARES) return
  // Its bundle names this process as a start claim does: the sweep of any process removes it once this one is gone.
  const sp: Spare = { id, p: spawnPrepared(spawn, 'exec: spare prepared', () => { void dropSpare(ctx, containerId, sp) }, execStartClaim()) }
  m.set(containerId, sp)
}

/** The id of the spare waiting for container `containerId`'s next session, if any (adoptSpare or dropSpare next). */
export function spareId (ctx: EngineContext, containerId: string): string | undefined {
  const sp = spares.get(ctx)?.get(containerId)
  return sp?.p.dropped === undefined ? sp?.id : undefined
}

/**
 * Makes the container's spare the prepared conmon of the session created with its id, if it was spawned with exactly
 * `spawn` (the options of that session); true if so. Otherwise the spare is let go and the session needs another id.
 */
export function adoptSpare (ctx: EngineContext, containerId: string, spawn: ConmonExecSpawnOptions): boolean {
  const sp = spares.get(ctx)?.get(containerId)
  if (sp === undefined || sp.p.dropped !== undefined) return false
  if (sp.p.key !== keyOf(spawn)) { void dropSpare(ctx, containerId, sp); return false }
  spares.get(ctx)?.delete(containerId)
  clearTimeout(sp.p.timer)
  sp.p.timer = setTimeout(() => { void dropPrepared(ctx, sp.id) }, UNUSED_MS)
  sp.p.timer.unref()
  perContext(prepared, ctx).set(sp.id, sp.p)
  return true
}

// Lets a spare go: its conmon killed, its bundle removed (no session has its id).
function dropSpare (ctx: EngineContext, containerId: string, sp: Spare): Promise<void> {
  const m = spares.get(ctx)
  if (sp.p.dropped === undefined) {
    clearTimeout(sp.p.timer)
    sp.p.dropped = letGo(sp.p, true).finally(() => { if (m?.get(containerId) === sp) m.delete(containerId) })
  }
  return sp.p.dropped
}

/**
 * The prepared conmon for this start of session `id`, if one was spawned with exactly these options; one spawned with
 * others is let go first (its bundle is the start's too). Undefined: the start spawns its own.
 */
export async function takePrepared (ctx: EngineContext, id: string, spawn: ConmonExecSpawnOptions): Promise<SpawnedExec | undefined> {
  const m = prepared.get(ctx)
  const p = m?.get(id)
  if (m === undefined || p === undefined) return undefined
  if (p.dropped !== undefined) { await p.dropped; return undefined }
  m.delete(id)
  clearTimeout(p.timer)
  if (p.key === keyOf(spawn)) return await p.conmon
  await letGo(p, false) // the start's own spawn clears the bundle
  return undefined
}

// Kills a prepared conmon (it still waits for its first byte: nothing ran) and removes its bundle if asked.
async function letGo (p: Prepared, removeBundle: boolean): Promise<void> {
  const spawned = await p.conmon
  if (spawned === undefined) return // the failed spawn removed its bundle
  spawned.conmon.kill()
  if (removeBundle) cleanupExecBundle(p.bundle)
}

// Whether nobody has started session `id`: then its bundle is the prepared conmon's alone (another service on the same
// store may have started it, with a conmon of its own in the same bundle). Read at once: the store may close next.
function unclaimed (ctx: EngineContext, id: string): boolean {
  try { return (ctx.execs.get(id)?.state ?? 'created') === 'created' } catch { return false }
}

/** Lets go of session `id`'s prepared conmon, if it has one that no start took. */
export function dropPrepared (ctx: EngineContext, id: string): Promise<void> {
  const m = prepared.get(ctx)
  const p = m?.get(id)
  if (m === undefined || p === undefined) return Promise.resolve()
  if (p.dropped === undefined) {
    clearTimeout(p.timer)
    p.dropped = letGo(p, unclaimed(ctx, id)).finally(() => { if (m.get(id) === p) m.delete(id) })
  }
  return p.dropped
}

/** Lets go of every prepared and spare conmon (the service stops, an engine closes: the store is read at once). */
export async function dropAllPrepared (ctx: EngineContext): Promise<void> {
  const m = prepared.get(ctx)
  const sm = spares.get(ctx)
  await Promise.all([
    ...[...m?.keys() ?? []].map((id) => dropPrepared(ctx, id)),
    ...[...sm?.entries() ?? []].map(([cid, sp]) => dropSpare(ctx, cid, sp)),
  ])
}
