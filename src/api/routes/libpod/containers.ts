// podman's /libpod/containers routes: list, create (SpecGenerator), start, stop, kill, wait, inspect, exists,
// delete. Same engine calls as the Docker routes; podman's shapes and status codes.
import { EngineError } from '../../../errors'
import { route } from '../../route'
import { q } from '../../query'
import { containerExtras, filterContainers, waitFor, clientGone, killRoute, startRoute, stopTimeout } from '../containers'
import { resolveImageRef } from '../images'
import { listContainer, inspectContainer, SpecGeneratorSchema, specToCreateOptions } from './shapes'

const isLive = (state: string): boolean => state === 'running' || state === 'paused'

export const libpodContainerRoutes = [
  route({
    method: 'GET',
    path: '/libpod/containers/json',
    query: {
      all: q.bool(), last: q.int({ min: -1 }), limit: q.int({ min: -1 }), size: q.bool(), sync: q.bool(), external: q.bool(), namespace: q.bool(), pod: q.bool(),
      filters: q.filters('id', 'name', 'status', 'label', 'exited', 'ancestor'),
    },
    handler: async (c) => {
      const last = c.query.last ?? c.query.limit ?? -1
      let list = await c.engine.listContainers({ all: c.query.all === true || last > 0 || (c.query.filters?.has('status') ?? false) })
      list = filterContainers(list, c.query.filters).sort((a, b) => b.createdAt - a.createdAt)
      if (last > 0) list = list.slice(0, last)
      c.x.json(200, list.map(listContainer))
    },
  }),
  route({
    method: 'POST',
    path: '/libpod/containers/create',
    body: SpecGeneratorSchema,
    handler: async (c) => {
      const o = specToCreateOptions(c.body)
      o.image = await resolveImageRef(c.engine, o.image)
      const rec = await c.engine.createContainer(o)
      c.x.json(201, { Id: rec.id, Warnings: [] })
    },
  }),
  route({
    method: 'GET',
    path: '/libpod/containers/{id}/json',
    query: { size: q.bool() },
    handler: async (c) => {
      const rec = await c.engine.getContainer(c.params.id)
      c.x.json(200, inspectContainer(rec, containerExtras(c.engine, rec)))
    },
  }),
  route({
    method: 'GET',
    path: '/libpod/containers/{id}/exists',
    handler: async (c) => { await c.engine.getContainer(c.params.id); c.x.send(204) },
  }),
  startRoute('/libpod/containers/{id}/start'),
  route({
    method: 'POST',
    path: '/libpod/containers/{id}/stop',
    query: { timeout: q.int({ min: -1, max: 2147483647 }), t: q.int({ min: -1, max: 2147483647 }), ignore: q.bool() },
    handler: async (c) => {
      const rec = await c.engine.getContainer(c.params.id)
      if (!isLive(rec.state)) { c.x.send(304); return }
      await c.engine.stopContainer(rec.id, stopTimeout(c.query.timeout ?? c.query.t))
      c.x.send(204)
    },
  }),
  killRoute('/libpod/containers/{id}/kill'),
  route({
    method: 'POST',
    path: '/libpod/containers/{id}/wait',
    query: { condition: q.str({ enum: ['configured', 'created', 'exited', 'paused', 'running', 'stopped', 'stopping', 'removing', 'healthy', 'unhealthy'] }), interval: q.str({ maxLength: 32 }) },
    handler: async (c) => {
      const cond = c.query.condition ?? 'stopped'
      let rec
      try { rec = await c.engine.getContainer(c.params.id) } catch (err) {
        // Removed already (--rm): answer with the exit code it died with, as podman does.
        const code = cond === 'running' ? undefined : c.engine.recentExitCode(c.params.id)
        if (code === undefined) throw err
        c.x.json(200, code)
        return
      }
      let code: number
      if (cond === 'running') code = await c.engine.waitContainer(rec.id, { condition: 'running', signal: clientGone(c) })
      else if (cond === 'stopped' || cond === 'exited') code = await waitFor(c.engine, rec.id, 'not-running', clientGone(c))
      else throw new EngineError('NOT_IMPLEMENTED', `waiting for condition "${cond}" is not supported by conex`)
      c.x.json(200, code)
    },
  }),
  route({
    method: 'DELETE',
    path: '/libpod/containers/{id}',
    query: { force: q.bool(), v: q.bool(), ignore: q.bool(), depend: q.bool(), timeout: q.int({ min: -1, max: 2147483647 }) },
    handler: async (c) => {
      const id = await c.engine.removeContainer(c.params.id, { force: c.query.force === true, ignore: c.query.ignore === true, timeout: stopTimeout(c.query.timeout) })
      c.x.json(200, id === undefined ? [] : [{ Id: id, Err: null, RawInput: c.params.id }])
    },
  }),
]
