// Docker's /containers routes: create, start, stop, kill, restart, pause, unpause, wait, inspect, list, delete, top,
// resize, logs and attach. Each maps its validated input to engine options, calls the engine once, and maps the
// result with docker-shapes.ts.
import type { LocalEngine } from '../../engine/engine'
import type { ContainerRecord } from '../../engine/types'
import { EngineError, invalid } from '../../errors'
import { route, type AnyRoute, type Call } from '../route'
import { q, type Filters } from '../query'
import { containerJson, containerSummary } from '../docker-shapes'
import { CreateBodySchema, toCreateOptions } from './container-create'
import { resolveImageRef } from './images'
import { attachRoute, logsRoute, rememberConsoleSize, startWithParkedAttach } from './container-io'

const STATES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']

/** A stop timeout from a query: absent or negative (-1) means the container's own stop timeout. */
export function stopTimeout (t: number | undefined): number | undefined {
  return t === undefined || t < 0 ? undefined : t
}

/** POST {path}/start, the same for Docker and libpod: 304 when already running; an attach parked before it gets the output. */
export function startRoute (path: string): AnyRoute {
  return route({
    method: 'POST',
    path,
    query: { detachKeys: q.str({ maxLength: 256 }) },
    handler: async (c) => {
      const rec = await c.engine.getContainer(c.params.id)
      if (rec.state === 'running') { c.x.send(304); return }
      await startWithParkedAttach(c.engine, rec.id)
      c.x.send(204)
    },
  })
}

/** POST {path}/kill, the same for Docker and libpod: the signal defaults to SIGKILL (an empty one too). */
export function killRoute (path: string): AnyRoute {
  return route({
    method: 'POST',
    path,
    query: { signal: q.str({ maxLength: 32 }) },
    handler: async (c) => {
      await c.engine.killContainer(c.params.id, c.query.signal === undefined || c.query.signal === '' ? 'SIGKILL' : c.query.signal)
      c.x.send(204)
    },
  })
}

// Extras for containerJson that live outside the record.
export function containerExtras (engine: LocalEngine, c: ContainerRecord): { execIds: string[], runtime: string, logPath: string } {
  // ExecIDs: the sessions created or running, as dockerd lists them (an exec leaves the container's list when its
  // process exits) and as `conex inspect` shows them; ended ones stay inspectable by id until pruned.
  return { execIds: engine.ctx.execs.activeForContainer(c.id).map((s) => s.id), runtime: engine.ctx.cfg.runtimeName, logPath: engine.ctx.layout.logPath(c.id) }
}

// Docker's list filters over records: id (prefix), name (regexp), status, label (key or key=value), exited, ancestor.
export function filterContainers (list: ContainerRecord[], f: Filters | undefined): ContainerRecord[] {
  if (f === undefined || f.size === 0) return list
  for (const st of f.get('status') ?? []) if (!STATES.includes(st)) throw invalid(`invalid filter 'status=${st}'`)
  const names = (f.get('name') ?? []).map((n) => { try { return new RegExp(n.replace(/^\//, '')) } catch { throw invalid(`invalid filter 'name=${n}'`) } })
  const exited = (f.get('exited') ?? []).map((e) => { if (!/^-?\d+$/.test(e)) throw invalid(`invalid filter 'exited=${e}'`); return Number(e) })
  const any = (vals: string[] | undefined, ok: (v: string) => boolean): boolean => vals === undefined || vals.some(ok)
  return list.filter((c) =>
    any(f.get('id'), (v) => c.id.startsWith(v)) &&
    (names.length === 0 || names.some((re) => re.test(c.name))) &&
    any(f.get('status'), (v) => v === c.state) &&
    (exited.length === 0 || (c.state === 'exited' && exited.includes(c.exitCode))) &&
    any(f.get('ancestor'), (v) => c.imageName === v || c.imageId.startsWith(v.replace(/^sha256:/, '')) || c.imageName === `localhost/${v.includes(':') ? v : v + ':latest'}`) &&
    (f.get('label') ?? []).every((l) => { const i = l.indexOf('='); return i === -1 ? l in c.config.labels : c.config.labels[l.slice(0, i)] === l.slice(i + 1) }))
}

const isLive = (c: ContainerRecord): boolean => c.state === 'running' || c.state === 'paused'

// Waits for `condition` as Docker defines it: not-running (now or later), next-exit (the next stop, even if the
// container is not running yet: `docker run` waits before it starts the container), removed.
export async function waitFor (engine: LocalEngine, ref: string, condition: string, signal: AbortSignal): Promise<number> {
  if (condition === 'removed') return engine.waitContainer(ref, { condition: 'removed', signal })
  if (condition === 'next-exit') {
    const c = await engine.getContainer(ref)
    if (!isLive(c)) await engine.waitContainer(c.id, { condition: 'started', after: c.startedAt, signal })
    return engine.waitContainer(c.id, { condition: 'stopped', signal })
  }
  return engine.waitContainer(ref, { condition: 'stopped', signal })
}

// Aborts when the client closes the connection (long waits, follows).
export function clientGone (c: Call): AbortSignal {
  const ac = new AbortController()
  const sock = c.x.socket
  const onClose = (): void => ac.abort()
  sock.once('close', onClose)
  ac.signal.addEventListener('abort', () => sock.removeListener('close', onClose))
  return ac.signal
}

export const containerRoutes = [
  route({
    method: 'POST',
    path: '/containers/create',
    query: { name: q.str({ pattern: /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, maxLength: 253 }), platform: q.str({ maxLength: 64 }) },
    body: CreateBodySchema,
    handler: async (c) => {
      const o = toCreateOptions(c.body, c.query.name)
      o.image = await resolveImageRef(c.engine, o.image)
      const rec = await c.engine.createContainer(o)
      const size = c.body?.HostConfig?.ConsoleSize
      if (o.tty === true && size !== undefined && size[0] > 0 && size[1] > 0) rememberConsoleSize(c.engine, rec.id, [size[0], size[1]])
      c.x.json(201, { Id: rec.id, Warnings: [] })
    },
  }),
  route({
    method: 'GET',
    path: '/containers/json',
    query: { all: q.bool(), limit: q.int({ min: -1 }), size: q.bool(), filters: q.filters('id', 'name', 'status', 'label', 'exited', 'ancestor') },
    handler: async (c) => {
      const limit = c.query.limit ?? -1
      let list = await c.engine.listContainers({ all: c.query.all === true || limit > 0 || (c.query.filters?.has('status') ?? false) || (c.query.filters?.has('exited') ?? false) })
      list = filterContainers(list, c.query.filters).sort((a, b) => b.createdAt - a.createdAt)
      if (limit > 0) list = list.slice(0, limit)
      const now = Date.now()
      c.x.json(200, list.map((r) => containerSummary(r, now)))
    },
  }),
  route({
    method: 'GET',
    path: '/containers/{id}/json',
    query: { size: q.bool() },
    handler: async (c) => {
      const rec = await c.engine.getContainer(c.params.id)
      c.x.json(200, containerJson(rec, containerExtras(c.engine, rec)))
    },
  }),
  startRoute('/containers/{id}/start'),
  route({
    method: 'POST',
    path: '/containers/{id}/stop',
    query: { t: q.int({ min: -1, max: 2147483647 }), signal: q.str({ maxLength: 32 }) },
    handler: async (c) => {
      const rec = await c.engine.getContainer(c.params.id)
      if (!isLive(rec)) { c.x.send(304); return }
      if (c.query.signal !== undefined) throw new EngineError('NOT_IMPLEMENTED', 'stop with a signal other than the container\'s stop signal is not supported; use kill')
      await c.engine.stopContainer(rec.id, stopTimeout(c.query.t))
      c.x.send(204)
    },
  }),
  killRoute('/containers/{id}/kill'),
  route({
    method: 'POST',
    path: '/containers/{id}/restart',
    query: { t: q.int({ min: -1, max: 2147483647 }), signal: q.str({ maxLength: 32 }) },
    handler: async (c) => {
      await c.engine.restartContainer(c.params.id, stopTimeout(c.query.t))
      c.x.send(204)
    },
  }),
  route({ method: 'POST', path: '/containers/{id}/pause', handler: async (c) => { await c.engine.pauseContainer(c.params.id); c.x.send(204) } }),
  route({ method: 'POST', path: '/containers/{id}/unpause', handler: async (c) => { await c.engine.unpauseContainer(c.params.id); c.x.send(204) } }),
  route({
    method: 'POST',
    path: '/containers/{id}/wait',
    query: { condition: q.str({ enum: ['not-running', 'next-exit', 'removed', ''] }) },
    handler: async (c) => {
      const rec = await c.engine.getContainer(c.params.id)
      // Headers go out at once (dockerd does the same): clients may wait on them before starting the container.
      const out = c.x.stream(200, 'application/json')
      try {
        const code = await waitFor(c.engine, rec.id, c.query.condition === undefined || c.query.condition === '' ? 'not-running' : c.query.condition, clientGone(c))
        out.write(JSON.stringify({ StatusCode: code, Error: null }) + '\n')
      } catch (err) {
        out.write(JSON.stringify({ StatusCode: -1, Error: { Message: (err as Error).message } }) + '\n')
      }
      out.end()
    },
  }),
  route({
    method: 'DELETE',
    path: '/containers/{id}',
    query: { force: q.bool(), v: q.bool(), link: q.bool() },
    handler: async (c) => {
      if (c.query.link === true) throw invalid('conex has no container links to remove')
      await c.engine.removeContainer(c.params.id, { force: c.query.force === true })
      c.x.send(204)
    },
  }),
  route({
    method: 'GET',
    path: '/containers/{id}/top',
    query: { ps_args: q.str({ maxLength: 256 }) },
    handler: async (c) => {
      const r = await c.engine.topContainer(c.params.id)
      c.x.json(200, { Titles: r.titles, Processes: r.processes })
    },
  }),
  route({
    method: 'POST',
    path: '/containers/{id}/resize',
    query: { h: q.int({ min: 0, max: 1000, required: true }), w: q.int({ min: 0, max: 1000, required: true }), running: q.bool() },
    handler: async (c) => {
      const rec = await c.engine.getContainer(c.params.id)
      // Before the start (podman run -t resizes first), the size is kept for the start.
      if (rec.state === 'created' && rec.config.tty) rememberConsoleSize(c.engine, rec.id, [c.query.h as number, c.query.w as number])
      else await c.engine.resizeContainer(rec.id, c.query.h as number, c.query.w as number)
      // podman answers libpod resizes with 201 (compat/resize.go), Docker with 200.
      c.x.send(c.libpod !== undefined ? 201 : 200, '')
    },
  }),
  logsRoute,
  attachRoute,
]
