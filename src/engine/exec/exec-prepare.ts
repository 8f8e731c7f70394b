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
import type { EngineContext } from '../context'
import { spawnConmonExec, cleanupExecBundle, type ConmonExecSpawnOptions, type SpawnedExec } from '../../oci/conmon/exec-session'
import { trace } from '../../util/trace'

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

/** Spawns the conmon a start of session `id` with these options will use (after the caller's reply, on the loop). */
export function prepareConmon (ctx: EngineContext, id: string, spawn: ConmonExecSpawnOptions): void {
  let m = prepared.get(ctx)
  if (m === undefined) prepared.set(ctx, m = new Map())
  if (m.has(id) || m.size >= MAX_PREPARED) return
  const p: Prepared = {
    key: keyOf(spawn),
    bundle: spawn.bundle,
    conmon: new Promise((resolve) => setImmediate(resolve)).then(() => spawnConmonExec(spawn))
      .then((c) => { trace('exec: conmon prepared'); return c }, () => undefined),
    timer: setTimeout(() => { void dropPrepared(ctx, id) }, UNUSED_MS),
  }
  p.timer.unref()
  m.set(id, p)
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

/** Lets go of every prepared conmon (the service stops, an engine closes: what needs the store is read at once). */
export async function dropAllPrepared (ctx: EngineContext): Promise<void> {
  const m = prepared.get(ctx)
  if (m !== undefined) await Promise.all([...m.keys()].map((id) => dropPrepared(ctx, id)))
}
