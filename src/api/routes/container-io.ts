// Container output and input: GET /containers/{id}/logs (stdcopy frames without a tty) and the hijacked
// POST /containers/{id}/attach. `docker run` attaches *before* it starts the container; such an attach is parked
// here until POST /containers/{id}/start arrives, which then starts the container with the parked streams, so the
// first bytes of a short-lived process are not lost.
import type { LocalEngine } from '../../engine/engine'
import type { AttachStreams, ContainerStartResult } from '../../engine/types'
import { invalid } from '../../errors'
import { route, type Call } from '../route'
import { q } from '../query'
import { frame, STDERR, STDOUT } from '../stdcopy'
import { Hijack, MULTIPLEXED_STREAM, RAW_STREAM } from '../hijack'
import { compareVersions } from '../router'

/** Multiplexed output is labelled as such from Docker API 1.42 (libpod 4.7.0). */
export function multiplexedLabel (c: Call): boolean {
  return c.libpod !== undefined ? compareVersions(c.libpod, '4.7.0') >= 0 : compareVersions(c.apiVersion, '1.42') >= 0
}

interface Parked { streams: AttachStreams, detachKeys?: string, signal: AbortSignal, done: (r: Promise<ContainerStartResult>) => void }

// What the API remembers between create and start, per engine (the engine has no place for it): attaches parked
// until the start, and the terminal size a client gave before the container ran (Docker's HostConfig.ConsoleSize at
// create, podman's resize before start). Never container state: it only lives until the start.
interface Pending { parked: Map<string, Parked>, sizes: Map<string, [number, number]> }
const pendingByEngine = new WeakMap<LocalEngine, Pending>()
const pending = (e: LocalEngine): Pending => {
  let m = pendingByEngine.get(e)
  if (m === undefined) { m = { parked: new Map(), sizes: new Map() }; pendingByEngine.set(e, m) }
  return m
}

// Remembers the tty size the container should start with.
export function rememberConsoleSize (engine: LocalEngine, id: string, size: [number, number]): void {
  const sizes = pending(engine).sizes
  sizes.set(id, size)
  // Bounded: a client that creates and never starts must not grow this for ever.
  if (sizes.size > 1000) sizes.delete(sizes.keys().next().value as string)
}

// Starts `id` for the start route: with a parked attach, the container starts attached and this resolves once it
// runs; otherwise a plain start. A remembered tty size is applied before the process starts.
export async function startWithParkedAttach (engine: LocalEngine, id: string): Promise<void> {
  const { parked, sizes } = pending(engine)
  const consoleSize = sizes.get(id)
  sizes.delete(id)
  const p = parked.get(id)
  if (p === undefined || p.signal.aborted) { await engine.startContainer(id, { consoleSize }); return }
  parked.delete(id)
  await new Promise<void>((resolve, reject) => {
    const run = engine.startContainer(id, { streams: { ...p.streams, onStarted: () => resolve() }, detachKeys: p.detachKeys, signal: p.signal, consoleSize })
    run.catch(reject)
    p.done(run)
  })
}

export const attachRoute = route({
  method: 'POST',
  path: '/containers/{id}/attach',
  query: { stream: q.bool(), stdin: q.bool(), stdout: q.bool(), stderr: q.bool(), logs: q.bool(), detachKeys: q.str({ maxLength: 256 }) },
  handler: async (c) => {
    const rec = await c.engine.getContainer(c.params.id)
    const h = new Hijack(c.x, { tty: rec.config.tty, multiplexedLabel: multiplexedLabel(c), headers: c.headers, log: c.log })
    h.sendHead()
    try {
      if (c.query.logs === true) {
        await c.engine.containerLogs(rec.id, { stdout: c.query.stdout, stderr: c.query.stderr }, (l) => (l.stream === 'stderr' ? h.stderr : h.stdout).write(l.data))
      }
      if (c.query.stream !== false) {
        const streams: AttachStreams = { stdin: c.query.stdin === true ? h.stdin : undefined, stdout: c.query.stdout === true ? h.stdout : undefined, stderr: c.query.stderr === true ? h.stderr : undefined }
        if (streams.stdin === undefined) h.ignoreInput()
        if (rec.state === 'created' || rec.state === 'exited') {
          await new Promise<void>((resolve, reject) => {
            const { parked } = pending(c.engine)
            parked.set(rec.id, { streams, detachKeys: c.query.detachKeys, signal: h.signal, done: (run) => { run.then(() => resolve(), reject) } })
            h.signal.addEventListener('abort', () => { parked.delete(rec.id); resolve() }, { once: true })
          })
        } else {
          await c.engine.attachContainer(rec.id, streams, { detachKeys: c.query.detachKeys, signal: h.signal })
        }
      }
      await h.end()
    } catch (err) {
      h.fail(err)
    }
  },
})

// A logs time bound → seconds since the epoch; undefined when absent or Go's zero time.
function logTime (name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === '' || v.startsWith('0001-01-01')) return undefined
  if (/^\d{1,12}(\.\d{1,9})?$/.test(v)) return Number(v)
  const ms = Date.parse(v)
  if (Number.isNaN(ms)) throw invalid(`invalid value for query parameter "${name}": "${v}" is not a unix timestamp or RFC 3339 time`)
  return ms / 1000
}

// conmon's k8s-file times end in "+00:00"; Docker prints RFC 3339 with nanoseconds and "Z".
const dockerTime = (t: string): string => t.endsWith('+00:00') ? t.slice(0, -6) + 'Z' : t

export const logsRoute = route({
  method: 'GET',
  path: '/containers/{id}/logs',
  query: {
    follow: q.bool(), stdout: q.bool(), stderr: q.bool(), timestamps: q.bool(), details: q.bool(),
    // Unix seconds (Docker), or RFC 3339 (podman; its zero time means "not given"); tail -1 is podman's "all".
    since: q.str({ maxLength: 64 }), until: q.str({ maxLength: 64 }), tail: q.str({ pattern: /^(all|-?\d{1,9})$/ }),
  },
  handler: async (c) => {
    if (c.query.stdout !== true && c.query.stderr !== true) throw invalid('Bad parameters: you must choose at least one stream')
    const rec = await c.engine.getContainer(c.params.id)
    // Docker leaves a tty container's log raw; libpod always frames it (podman's compat/containers_logs.go).
    const tty = rec.config.tty && c.libpod === undefined
    const out = c.x.stream(200, !tty && multiplexedLabel(c) ? MULTIPLEXED_STREAM : RAW_STREAM)
    const ac = new AbortController()
    out.socket.once('close', () => ac.abort())
    const tail = c.query.tail === undefined || c.query.tail === 'all' || Number(c.query.tail) < 0 ? undefined : Number(c.query.tail)
    const since = logTime('since', c.query.since)
    const until = logTime('until', c.query.until)
    await c.engine.containerLogs(rec.id, {
      follow: c.query.follow, stdout: c.query.stdout, stderr: c.query.stderr, tail, signal: ac.signal,
      since,
      until,
    }, (l) => {
      const data = c.query.timestamps === true ? Buffer.concat([Buffer.from(dockerTime(l.time) + ' '), l.data]) : l.data
      out.write(tty ? data : frame(l.stream === 'stderr' ? STDERR : STDOUT, data))
    })
    out.end()
  },
})
