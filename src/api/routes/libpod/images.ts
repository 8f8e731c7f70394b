// podman's /libpod/images routes: exists, list, inspect, and a pull that succeeds only for images already here
// (podman remote "pulls" with policy=missing before every run).
import { EngineError } from '../../../errors'
import { route } from '../../route'
import { q } from '../../query'
import { resolveImageRef } from '../images'
import { rfc3339 } from '../../../util/time'

export const libpodImageRoutes = [
  route({
    method: 'GET',
    path: '/libpod/images/{name*}/exists',
    params: { name: 'image' },
    handler: async (c) => { await resolveImageRef(c.engine, c.params.name); c.x.send(204) },
  }),
  route({
    method: 'GET',
    path: '/libpod/images/json',
    query: { all: q.bool(), filters: q.filters('reference', 'dangling', 'label', 'before', 'since', 'until', 'id', 'readonly') },
    handler: async (c) => {
      const containers = c.engine.ctx.containers.list()
      const images = await c.engine.listImages()
      c.x.json(200, images.map((i) => ({
        Id: i.id, ParentId: '', RepoTags: i.names, RepoDigests: [], Created: Math.floor(i.createdAt / 1000), Size: i.size, SharedSize: 0,
        VirtualSize: i.size, Labels: i.config.Labels ?? {}, Containers: containers.filter((ct) => ct.imageId === i.id).length, Names: i.names,
        Digest: `sha256:${i.id}`, History: [], Dangling: i.names.length === 0, ReadOnly: false,
      })))
    },
  }),
  route({
    method: 'GET',
    path: '/libpod/images/{name*}/json',
    params: { name: 'image' },
    handler: async (c) => {
      const i = await c.engine.getImage(await resolveImageRef(c.engine, c.params.name))
      c.x.json(200, {
        Id: i.id, Digest: `sha256:${i.id}`, RepoTags: i.names, RepoDigests: [], Parent: '', Comment: '', Created: rfc3339(i.createdAt),
        Config: i.config, Version: '', Author: '', Architecture: process.arch === 'x64' ? 'amd64' : process.arch, Os: 'linux', Size: i.size,
        VirtualSize: i.size, GraphDriver: { Name: 'overlay', Data: null }, RootFS: { Type: 'layers', Layers: i.layers.map((l) => `sha256:${l}`) },
        Labels: i.config.Labels ?? null, Annotations: {}, ManifestType: 'application/vnd.oci.image.manifest.v1+json', User: i.config.User ?? '', History: [], NamesHistory: [],
      })
    },
  }),
  route({
    method: 'POST',
    path: '/libpod/images/pull',
    query: { reference: q.str({ maxLength: 512, required: true }), policy: q.str({ enum: ['always', 'missing', 'never', 'newer'] }), quiet: q.bool(), tlsVerify: q.bool(), arch: q.str(), os: q.str(), variant: q.str(), allTags: q.bool() },
    handler: async (c) => {
      const ref = c.query.reference as string
      let local: string
      try { local = await resolveImageRef(c.engine, ref) } catch (err) {
        if (err instanceof EngineError && err.code === 'NO_SUCH_IMAGE') throw new EngineError('NOT_IMPLEMENTED', `pulling ${ref}: conex cannot pull from registries; import or load the image instead`)
        throw err
      }
      const i = await c.engine.getImage(local)
      c.x.send(200, JSON.stringify({ images: [i.id], id: i.id }) + '\n')
    },
  }),
]
