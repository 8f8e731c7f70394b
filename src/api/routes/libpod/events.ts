// GET /libpod/events: the Docker event stream in podman's vocabulary. podman remote turns each message into its own
// event and gives up (a nil event, a crash in 4.3) when the action is not one of podman's statuses or
// containerExitCode is missing, so exec_create is dropped, exec_start is "exec", and every event carries a code.
import type { EngineEvent } from '../../../engine/types'
import { route } from '../../route'
import { q } from '../../query'
import { clientGone } from '../containers'
import { parseEventTime } from '../events'
import { compareVersions, LIBPOD_API_VERSION } from '../../router'

const PODMAN_ACTIONS = new Set(['create', 'start', 'died', 'stop', 'kill', 'pause', 'unpause', 'remove', 'cleanup', 'init', 'restart', 'exec', 'exec_died', 'tag', 'untag', 'import', 'load', 'pull', 'save'])

// An engine event → podman's wire form of it (a Docker message), or undefined when the client has no name for it
// (exec_died came with podman 4.4).
function libpodEvent (e: EngineEvent, name: string | undefined, image: string | undefined, clientVersion: string): string | undefined {
  const action = e.action === 'exec_start' ? 'exec' : e.action
  if (!PODMAN_ACTIONS.has(action) || (action === 'exec_died' && compareVersions(clientVersion, '4.4.0') < 0)) return undefined
  const id = e.type === 'exec' ? e.attributes.containerID ?? e.id : e.id
  const attrs: Record<string, string> = { ...e.attributes, containerExitCode: e.attributes.exitCode ?? '0' }
  if (name !== undefined) attrs.name ??= name
  if (image !== undefined) attrs.image ??= image
  const msg = { Type: e.type === 'exec' ? 'container' : e.type, Action: action, Actor: { ID: id, Attributes: attrs }, scope: 'local', time: e.time }
  return JSON.stringify(msg).slice(0, -1) + `,"timeNano":${e.timeNano.toString()}}\n`
}

export const libpodEventRoutes = [
  route({
    method: 'GET',
    path: '/libpod/events',
    query: { since: q.str({ maxLength: 64 }), until: q.str({ maxLength: 64 }), stream: q.bool(), filters: q.filters('container', 'event', 'image', 'label', 'type', 'pod', 'volume') },
    handler: async (c) => {
      const since = c.query.since !== undefined && c.query.since !== '' ? parseEventTime('since', c.query.since) : undefined
      const until = c.query.until !== undefined && c.query.until !== '' ? parseEventTime('until', c.query.until) : undefined
      const f = c.query.filters
      const want = (k: string, v: string | undefined): boolean => { const vals = f?.get(k); return vals === undefined || (v !== undefined && vals.some((x) => v === x || v.startsWith(x))) }
      const ctx = c.engine.ctx
      const out = c.x.stream(200, 'application/json')
      const start = since ?? (c.query.stream === false ? 0n : BigInt(Date.now()) * 1_000_000n)
      await c.engine.events({ since: start, until, follow: c.query.stream !== false, signal: clientGone(c) }, (e) => {
        const cid = e.type === 'exec' ? e.attributes.containerID ?? '' : e.id
        const rec = e.type === 'image' ? undefined : ctx.containers.get(cid)
        const name = rec?.name ?? e.attributes.name
        if (!want('type', e.type === 'exec' ? 'container' : e.type) || !want('event', e.action === 'exec_start' ? 'exec' : e.action) || !want('container', f?.has('container') === true ? (name ?? cid) : cid)) return
        const line = libpodEvent(e, name, rec?.imageName ?? e.attributes.image, c.libpod ?? LIBPOD_API_VERSION)
        if (line !== undefined) out.write(line)
      })
      out.end()
    },
  }),
]
