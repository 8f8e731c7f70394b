// Docker's /images routes: list, inspect, tag, delete, import (POST /images/create?fromSrc=-) and load. conex has
// no registry client: a pull (fromImage) succeeds only when the image is already here, as `docker run` asks for
// one whenever create said "No such image".
import type { LocalEngine } from '../../engine/engine'
import { EngineError, invalid } from '../../errors'
import { route, type Call } from '../route'
import { q } from '../query'
import { imageInspect, imageSummary, imageId } from '../docker-shapes'

const DOCKER_HUB = /^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\/)?(?:library\/)?/

// Docker clients write Docker Hub names in full (`docker tag x mybox:1` asks for repo=docker.io/library/mybox);
// conex names unqualified images localhost/NAME, as podman does. A name for the engine drops the Hub prefix.
export const engineImageName = (name: string): string => name.replace(DOCKER_HUB, '')

// Resolves what a client calls an image to a reference the engine knows: the name as given, without the Docker Hub
// prefix (`docker.io/library/busybox` is conex's built-in `busybox` when nothing else has that name), or with it
// (an image loaded from an archive that named it so). Throws the engine's NO_SUCH_IMAGE (404) when none exists.
export async function resolveImageRef (engine: LocalEngine, ref: string): Promise<string> {
  const short = engineImageName(ref)
  const candidates = [...new Set([ref, short, /^[^/]+(:[^/]*)?$/.test(short) ? `docker.io/library/${short}` : short])]
  let first: unknown
  for (const cand of candidates) {
    if (cand === '') continue
    try {
      await engine.getImage(cand)
      return cand
    } catch (err) {
      if (!(err instanceof EngineError) || err.code !== 'NO_SUCH_IMAGE') throw err
      first ??= err
    }
  }
  throw first
}

// Progress lines (JSON per line) as dockerd streams them for pull, import and load.
function progress (c: Call, lines: Array<Record<string, unknown>>): void {
  c.x.send(200, lines.map((l) => JSON.stringify(l) + '\n').join(''), 'application/json')
}

const nameParam = { name: 'image' } as const

// How long an import or load upload may stall (upload_idle_timeout_seconds): then 408, and nothing is kept.
const uploadIdle = (c: Call): { idleMs: number } => ({ idleMs: c.engine.ctx.cfg.uploadIdleTimeoutSeconds * 1000 })

export const imageRoutes = [
  route({
    method: 'GET',
    path: '/images/json',
    query: { all: q.bool(), digests: q.bool(), 'shared-size': q.bool(), manifests: q.bool(), filters: q.filters('reference', 'dangling', 'label', 'before', 'since', 'until') },
    handler: async (c) => {
      const images = await c.engine.listImages()
      const containers = c.engine.ctx.containers.list()
      const refs = c.query.filters?.get('reference')
      const dangling = c.query.filters?.get('dangling')
      const out = images
        .filter((i) => refs === undefined || refs.some((r) => i.names.some((n) => n === r || n.endsWith(`/${r}`) || n.endsWith(`/${r}:latest`) || n.split(':')[0].endsWith(`/${r}`))))
        .filter((i) => dangling === undefined || dangling.includes(String(i.names.length === 0)))
        .map((i) => imageSummary(i, containers.filter((ct) => ct.imageId === i.id).length))
      c.x.json(200, out)
    },
  }),
  route({
    method: 'GET',
    path: '/images/{name*}/json',
    params: nameParam,
    handler: async (c) => {
      const i = await c.engine.getImage(await resolveImageRef(c.engine, c.params.name))
      c.x.json(200, imageInspect(i))
    },
  }),
  route({
    method: 'POST',
    path: '/images/{name*}/tag',
    params: nameParam,
    query: { repo: q.str({ maxLength: 255, required: true }), tag: q.str({ pattern: /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/ }) },
    handler: async (c) => {
      const ref = await resolveImageRef(c.engine, c.params.name)
      await c.engine.tagImage(ref, `${engineImageName(c.query.repo as string)}:${c.query.tag ?? 'latest'}`)
      c.x.send(201)
    },
  }),
  route({
    method: 'DELETE',
    path: '/images/{name*}',
    params: nameParam,
    query: { force: q.bool(), noprune: q.bool() },
    handler: async (c) => {
      const ref = await resolveImageRef(c.engine, c.params.name)
      const lines = await c.engine.removeImage(ref, c.query.force === true)
      c.x.json(200, lines.map((l) => l.startsWith('Deleted: ') ? { Deleted: imageId(l.slice(9)) } : { Untagged: l.replace(/^Untagged: /, '') }))
    },
  }),
  route({
    method: 'POST',
    path: '/images/create',
    query: {
      fromImage: q.str({ maxLength: 512 }), fromSrc: q.str({ maxLength: 4096 }), repo: q.str({ maxLength: 255 }), tag: q.str({ maxLength: 128 }),
      message: q.str({ maxLength: 4096 }), platform: q.str({ maxLength: 64 }),
    },
    rawBody: true,
    handler: async (c) => {
      if (c.query.fromSrc !== undefined) {
        if (c.query.fromSrc !== '-') throw new EngineError('NOT_IMPLEMENTED', 'importing from a URL is not supported; send the archive as the request body (fromSrc=-)')
        const changes = new URLSearchParams(c.x.url.slice(c.x.url.indexOf('?') + 1)).getAll('changes')
        const name = c.query.repo !== undefined && c.query.repo !== '' ? `${engineImageName(c.query.repo)}${c.query.tag !== undefined && c.query.tag !== '' ? ':' + c.query.tag : ''}` : undefined
        const img = await c.engine.importImage(c.x.bodyStream(uploadIdle(c)), { tag: name, changes, message: c.query.message })
        progress(c, [{ status: imageId(img.id) }])
        return
      }
      if (c.query.fromImage === undefined || c.query.fromImage === '') throw invalid('either fromImage or fromSrc is required')
      const ref = `${c.query.fromImage}${c.query.tag !== undefined && c.query.tag !== '' && !c.query.fromImage.includes('@') ? ':' + c.query.tag : ''}`
      let local: string
      try { local = await resolveImageRef(c.engine, ref) } catch (err) {
        if (err instanceof EngineError && err.code === 'NO_SUCH_IMAGE') throw new EngineError('NOT_IMPLEMENTED', `pulling ${ref}: conex cannot pull from registries; import or load the image instead`)
        throw err
      }
      const i = await c.engine.getImage(local)
      progress(c, [{ status: `Pulling from ${c.query.fromImage}`, id: c.query.tag ?? 'latest' }, { status: `Digest: ${imageId(i.id)}` }, { status: `Status: Image is up to date for ${ref}` }])
    },
  }),
  route({
    method: 'POST',
    path: '/images/load',
    query: { quiet: q.bool() },
    rawBody: true,
    handler: async (c) => {
      const names = await c.engine.loadImages(c.x.bodyStream(uploadIdle(c)))
      progress(c, names.map((n) => ({ stream: `Loaded image: ${n}\n` })))
    },
  }),
]
