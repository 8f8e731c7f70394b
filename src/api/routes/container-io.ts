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

const parkedByEngine = new WeakMap<LocalEngine, Map<string, Parked>>()
const parked = (e: LocalEngine): Map<string, Parked> => {
  let m = parkedByEngine.get(e)
  if (m === undefined) { m = new Map(); parkedByEngine.set(e, m) }
  return m
}

// Starts `id` for the start route: with a parked attach, the container starts attached and this resolves once it
// runs; otherwise a plain start. Returns false when the container was already running.
export async function startWithParkedAttach (engine: LocalEngine, id: string): Promise<void> {
  const p = parked(engine).get(id)
  if (p === undefined || p.signal.aborted) { await engine.startContainer(id); return }
  parked(engine).delete(id)
  await new Promise<void>((resolve, reject) => {
    const run = engine.startContainer(id, { streams: { ...p.streams, onStarted: () => resolve() }, detachKeys: p.detachKeys, signal: p.signal })
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
            parked(c.engine).set(rec.id, { streams, detachKeys: c.query.detachKeys, signal: h.signal, done: (run) => { run.then(() => resolve(), reject) } })
            h.signal.addEventListener('abort', () => { parked(c.engine).delete(rec.id); resolve() }, { once: true })
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

// conmon's k8s-file times end in "+00:00"; Docker prints RFC 3339 with nanoseconds and "Z".
const dockerTime = (t: string): string => t.endsWith('+00:00') ? t.slice(0, -6) + 'Z' : t

export const logsRoute = route({
  method: 'GET',
  path: '/containers/{id}/logs',
  query: {
    follow: q.bool(), stdout: q.bool(), stderr: q.bool(), timestamps: q.bool(), details: q.bool(),
    since: q.str({ pattern: /^\d{1,12}(\.\d{1,9})?$/ }), until: q.str({ pattern: /^\d{1,12}(\.\d{1,9})?$/ }), tail: q.str({ pattern: /^(all|\d{1,9})$/ }),
  },
  handler: async (c) => {
    if (c.query.stdout !== true && c.query.stderr !== true) throw invalid('Bad parameters: you must choose at least one stream')
    const rec = await c.engine.getContainer(c.params.id)
    const tty = rec.config.tty
    const out = c.x.stream(200, !tty && multiplexedLabel(c) ? MULTIPLEXED_STREAM : RAW_STREAM)
    const ac = new AbortController()
    out.socket.once('close', () => ac.abort())
    const tail = c.query.tail === undefined || c.query.tail === 'all' ? undefined : Number(c.query.tail)
    await c.engine.containerLogs(rec.id, {
      follow: c.query.follow, stdout: c.query.stdout, stderr: c.query.stderr, tail, signal: ac.signal,
      since: c.query.since !== undefined ? Number(c.query.since) : undefined,
      until: c.query.until !== undefined ? Number(c.query.until) : undefined,
    }, (l) => {
      const data = c.query.timestamps === true ? Buffer.concat([Buffer.from(dockerTime(l.time) + ' '), l.data]) : l.data
      out.write(tty ? data : frame(l.stream === 'stderr' ? STDERR : STDOUT, data))
    })
    out.end()
  },
})
