// GET /events: stored events since `since`, then new ones as they happen (until `until`, or until the client
// leaves), one Docker EventMessage per line. Filters follow dockerd (daemon/events/filter.go): container and image
// match an ID or name by prefix; `event` matches exactly, except exec_create/exec_start, which match the action
// prefix ("exec_start: sh").
import type { EngineEvent } from '../../engine/types'
import { invalid } from '../../errors'
import { route } from '../route'
import { q, type Filters } from '../query'
import { dockerEvent, dockerEventLine, type EventActor } from '../system-shapes'
import { clientGone } from './containers'
import { parseTimeNs } from '../../util/time'

const TYPES = ['container', 'image', 'volume', 'network', 'daemon', 'plugin', 'node', 'service', 'secret', 'config', 'builder']
const FUZZY_EVENTS = new Set(['exec_create', 'exec_start', 'health_status'])

// A Docker events timestamp (unix seconds, fractions allowed, or RFC 3339) or, as podman sends it, a Go duration
// before now ("1m", "1h30m") → nanoseconds.
export function parseEventTime (name: string, v: string, now = Date.now()): bigint {
  const ns = parseTimeNs(v, now)
  if (ns === undefined) throw invalid(`invalid value for query parameter "${name}": "${v}" is not a unix timestamp or RFC 3339 time`)
  return ns
}

const prefixOf = (values: string[], ...candidates: Array<string | undefined>): boolean =>
  values.some((v) => candidates.some((c) => c !== undefined && c !== '' && (c === v || c.startsWith(v))))

// Builds the matcher for Docker's event filters.
export function eventMatcher (f: Filters | undefined): (m: Record<string, unknown>) => boolean {
  if (f === undefined || f.size === 0) return () => true
  for (const t of f.get('type') ?? []) if (!TYPES.includes(t)) throw invalid(`invalid filter 'type=${t}'`)
  return (m) => {
    const actor = m.Actor as { ID: string, Attributes: Record<string, string> }
    const action = m.Action as string
    const type = m.Type as string
    const ok = (key: string, test: (vals: string[]) => boolean): boolean => { const v = f.get(key); return v === undefined || test(v) }
    return ok('type', (v) => v.includes(type)) &&
      ok('event', (v) => v.some((e) => action === e || (FUZZY_EVENTS.has(e) && action.startsWith(e)))) &&
      ok('container', (v) => type === 'container' && prefixOf(v, actor.ID, actor.Attributes.name)) &&
      ok('image', (v) => prefixOf(v, actor.Attributes.image, type === 'image' ? actor.ID : undefined, type === 'image' ? actor.Attributes.name : undefined)) &&
      ok('label', (v) => v.every((l) => { const i = l.indexOf('='); return i === -1 ? l in actor.Attributes : actor.Attributes[l.slice(0, i)] === l.slice(i + 1) })) &&
      ok('scope', (v) => v.includes('local')) &&
      !['daemon', 'network', 'volume', 'plugin', 'node', 'service', 'secret', 'config'].some((k) => f.has(k))
  }
}

export const eventRoutes = [
  route({
    method: 'GET',
    path: '/events',
    query: {
      since: q.str({ maxLength: 64 }), until: q.str({ maxLength: 64 }),
      filters: q.filters('container', 'event', 'image', 'label', 'type', 'daemon', 'network', 'volume', 'plugin', 'node', 'service', 'secret', 'config', 'scope'),
    },
    handler: async (c) => {
      const since = c.query.since !== undefined && c.query.since !== '' ? parseEventTime('since', c.query.since) : undefined
      const until = c.query.until !== undefined && c.query.until !== '' ? parseEventTime('until', c.query.until) : undefined
      const match = eventMatcher(c.query.filters)
      const ctx = c.engine.ctx
      const actors = new Map<string, EventActor>()
      // Container names and images, which exec events lack; remembered so removed containers still resolve.
      const actorOf = (e: EngineEvent): EventActor => {
        const cid = e.type === 'exec' ? e.attributes.containerID ?? '' : e.id
        let a = actors.get(cid)
        if (a === undefined) {
          const rec = ctx.containers.get(cid)
          a = { name: rec?.name ?? e.attributes.name, image: rec?.imageName ?? e.attributes.image }
          if (e.type !== 'image') actors.set(cid, a)
        }
        if (e.type === 'exec') return { ...a, command: ctx.execs.get(e.id)?.config.command.join(' ') }
        return a
      }
      const out = c.x.stream(200, 'application/json')
      const signal = clientGone(c)
      // Events are delivered from the live stream only when no `since` is given (dockerd's behaviour).
      const start = since ?? BigInt(Date.now()) * 1_000_000n
      await c.engine.events({ since: start, until, follow: true, signal }, (e) => {
        if (e.timeNano < start) return
        const actor = actorOf(e)
        if (match(dockerEvent(e, actor))) out.write(dockerEventLine(e, actor))
      })
      out.end()
    },
  }),
]
