// Image import (a rootfs tarball, like `podman import`) and load (docker-archive / oci-archive, as `docker save` and
// `podman save` write them). Layers are extracted by image/extract-layer.ts, which refuses anything that would
// escape the store; each layer is staged and renamed into place, so a failure leaves nothing half-made.
import { createHash } from 'node:crypto'
import { createReadStream, mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough, type Readable } from 'node:stream'
import type { EngineContext } from '../context'
import { emit } from '../context'
import type { ImageImportOptions, ImageSummary } from '../types'
import type { ImageConfig } from '../../store/images'
import { normalizeImageName } from '../../store/images'
import { writeTx } from '../../store/db'
import { extractLayer } from '../../image/extract-layer'
import { readImageArchive } from '../../image/image-archive'
import { stageLayer, layersDir } from '../../image/layers'
import { invalid } from '../../errors'
import { getImage } from './image-service'

/** Largest image a single import or load may expand to. */
export const MAX_IMAGE_BYTES = 8 * 1024 ** 3

// Parses one --change instruction (Dockerfile syntax) into the image config.
export function applyChange (cfg: ImageConfig, change: string): ImageConfig {
  const m = /^\s*(\w+)\s+(.*)$/s.exec(change)
  if (m === null) throw invalid(`invalid change "${change}": expected INSTRUCTION ARGUMENTS`)
  const op = m[1].toUpperCase()
  const arg = m[2].trim()
  const list = (): string[] => {
    if (arg.startsWith('[')) {
      try {
        const v = JSON.parse(arg) as unknown
        if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v
      } catch { /* fall through */ }
      throw invalid(`invalid change "${change}": the JSON form must be an array of strings`)
    }
    return ['/bin/sh', '-c', arg]
  }
  const kv = (): Array<[string, string]> => {
    if (arg.includes('=')) {
      return arg.split(/\s+(?=[^=\s]+=)/).map((p) => { const i = p.indexOf('='); return [p.slice(0, i), p.slice(i + 1).replace(/^"(.*)"$/, '$1')] })
    }
    const sp = arg.indexOf(' ')
    if (sp === -1) throw invalid(`invalid change "${change}": expected KEY=VALUE`)
    return [[arg.slice(0, sp), arg.slice(sp + 1)]]
  }
  switch (op) {
    case 'CMD': return { ...cfg, Cmd: list() }
    case 'ENTRYPOINT': return { ...cfg, Entrypoint: list() }
    case 'WORKDIR': return { ...cfg, WorkingDir: arg }
    case 'USER': return { ...cfg, User: arg }
    case 'STOPSIGNAL': return { ...cfg, StopSignal: arg }
    case 'ENV': {
      const env = [...(cfg.Env ?? [])]
      for (const [k, v] of kv()) { const i = env.findIndex((e) => e.startsWith(k + '=')); if (i >= 0) env[i] = `${k}=${v}`; else env.push(`${k}=${v}`) }
      return { ...cfg, Env: env }
    }
    case 'LABEL': return { ...cfg, Labels: { ...(cfg.Labels ?? {}), ...Object.fromEntries(kv()) } }
    case 'EXPOSE': case 'VOLUME': case 'ONBUILD': return cfg
    default: throw invalid(`invalid change "${change}": ${op} is not one of CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, STOPSIGNAL, EXPOSE, VOLUME`)
  }
}

function checkName (name: string): string {
  if (!/^[a-z0-9][a-z0-9._/:@-]*$/i.test(name) || name.length > 255) throw invalid(`invalid reference format: "${name}"`)
  return normalizeImageName(name)
}

// Extracts one layer stream into a staged directory and commits it under `id` (or the stream's sha256).
async function addLayer (ctx: EngineContext, input: Readable, id: string | undefined, onProgress?: (n: number) => void): Promise<{ id: string, bytes: number }> {
  // Already stored (shared with another image): the stream is not read. A file stream still opens its file later,
  // after load has removed its work directory; that ENOENT, unhandled, crashed the process.
  if (id !== undefined && existsSync(join(layersDir(ctx.cfg.root), id))) {
    input.on('error', () => { /* not read */ })
    input.destroy()
    return { id, bytes: 0 }
  }
  const stage = stageLayer(ctx.cfg.root)
  const hash = createHash('sha256')
  const tee = new PassThrough()
  input.on('data', (d: Buffer) => hash.update(d))
  input.on('error', (err) => tee.destroy(err))
  input.pipe(tee)
  try {
    const r = await extractLayer(tee, stage.dir, { maxBytes: MAX_IMAGE_BYTES, onProgress })
    const layerId = id ?? hash.digest('hex')
    stage.commit(layerId)
    return { id: layerId, bytes: r.bytes }
  } catch (err) {
    stage.abort()
    input.destroy()
    throw err
  }
}

export async function importImage (ctx: EngineContext, tarball: Readable, o: ImageImportOptions): Promise<ImageSummary> {
  const name = o.tag !== undefined && o.tag !== '' ? checkName(o.tag) : undefined
  let config: ImageConfig = { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] }
  for (const c of o.changes ?? []) config = applyChange(config, c)
  let seen = 0
  const layer = await addLayer(ctx, tarball, undefined, (n) => { seen = n; o.onProgress?.(n) })
  const created = Date.now()
  const imageId = createHash('sha256').update(JSON.stringify({ config, layers: [layer.id], created, comment: o.message ?? '' })).digest('hex')
  writeTx(ctx.db, () => ctx.images.add({ id: imageId, config, layers: [layer.id], size: layer.bytes || seen, createdAt: created }, name !== undefined ? [name] : []))
  emit(ctx, 'image', 'import', imageId, name !== undefined ? { name } : {})
  return getImage(ctx, imageId)
}

// Loads every image in a docker-archive or oci-archive; returns the names (or ids of unnamed images) loaded.
export async function loadImages (ctx: EngineContext, archive: Readable, onProgress?: (bytes: number) => void): Promise<string[]> {
  mkdirSync(join(ctx.cfg.root, 'tmp'), { recursive: true })
  const work = mkdtempSync(join(ctx.cfg.root, 'tmp', 'load-'))
  try {
    const found = await readImageArchive(archive, work, { maxBytes: MAX_IMAGE_BYTES, onProgress })
    if (found.length === 0) throw invalid('the archive holds no image')
    const loaded: string[] = []
    for (const img of found) {
      const layers: string[] = []
      let size = 0
      for (let i = 0; i < img.layerPaths.length; i++) {
        const l = await addLayer(ctx, createReadStream(img.layerPaths[i]), img.diffIds[i])
        layers.push(l.id)
        size += l.bytes
      }
      const inner = (img.config.config ?? {}) as ImageConfig
      const config: ImageConfig = {
        Env: inner.Env, Cmd: inner.Cmd ?? undefined, Entrypoint: inner.Entrypoint ?? undefined, WorkingDir: inner.WorkingDir,
        User: inner.User, Labels: inner.Labels ?? undefined, StopSignal: inner.StopSignal,
      }
      const created = typeof img.config.created === 'string' ? Date.parse(img.config.created) || Date.now() : Date.now()
      const names = img.repoTags.map(normalizeImageName)
      writeTx(ctx.db, () => ctx.images.add({ id: img.configDigest, config, layers, size, createdAt: created }, names))
      emit(ctx, 'image', 'load', img.configDigest, { name: names[0] ?? '' })
      loaded.push(...(names.length > 0 ? names : [`sha256:${img.configDigest}`]))
    }
    return loaded
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}
