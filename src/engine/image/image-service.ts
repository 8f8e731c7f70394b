// Images: lookup (building the built-in busybox on first use), list, tag, remove. Import and load live in
// image-import.ts.
import type { EngineContext } from '../context'
import { emit } from '../context'
import { writeTx } from '../../store/db'
import { normalizeImageName, type ImageRecord } from '../../store/images'
import { BUILTIN_NAME, buildBusyboxLayer } from '../../image/builtin-busybox'
import { layerDiff, removeLayer } from '../../image/layers'
import { EngineError, invalid } from '../../errors'
import type { ImageSummary } from '../types'

const toSummary = (r: ImageRecord): ImageSummary => ({ id: r.id, names: r.names, size: r.size, createdAt: r.createdAt, config: r.config, layers: r.layers })

// Builds and records the built-in image if it is missing; idempotent and safe under concurrency.
export function ensureBuiltinImage (ctx: EngineContext): ImageRecord {
  const have = ctx.images.lookup(BUILTIN_NAME)
  if (have !== undefined) return have
  const built = buildBusyboxLayer(ctx.cfg.root)
  writeTx(ctx.db, () => {
    ctx.images.add({ id: built.imageId, config: built.config, layers: [built.layerId], size: built.size, createdAt: Date.now() }, [BUILTIN_NAME])
  })
  return ctx.images.lookup(BUILTIN_NAME) as ImageRecord
}

// Resolves an image reference; `busybox` (and its full name) builds the built-in image on first use.
export async function resolveImage (ctx: EngineContext, ref: string): Promise<ImageRecord> {
  if (ref === '') throw invalid('an image name is required')
  const found = ctx.images.lookup(ref)
  if (found !== undefined) return found
  if (normalizeImageName(ref) === BUILTIN_NAME) return ensureBuiltinImage(ctx)
  throw new EngineError('NO_SUCH_IMAGE', `${ref}: image not known`)
}

// Lower directories for overlayfs, top layer first.
export function lowerDirs (ctx: EngineContext, image: { layers: string[] }): string[] {
  return [...image.layers].reverse().map((l) => layerDiff(ctx.cfg.root, l))
}

export async function listImages (ctx: EngineContext): Promise<ImageSummary[]> {
  return ctx.images.list().map(toSummary)
}

export async function getImage (ctx: EngineContext, ref: string): Promise<ImageSummary> {
  return toSummary(await resolveImage(ctx, ref))
}

export async function tagImage (ctx: EngineContext, ref: string, name: string): Promise<void> {
  const img = await resolveImage(ctx, ref)
  if (!/^[a-z0-9][a-z0-9._/:-]*$/i.test(name) || name.length > 255) throw invalid(`invalid image name "${name}"`)
  writeTx(ctx.db, () => ctx.images.tag(img.id, name))
  emit(ctx, 'image', 'tag', img.id, { name: normalizeImageName(name) })
}

// Removes a name, or the whole image when `ref` is an id or its last name; refuses while containers use it.
export async function removeImage (ctx: EngineContext, ref: string, force = false): Promise<string[]> {
  const img = await resolveImage(ctx, ref)
  const byName = img.names.includes(normalizeImageName(ref))
  if (byName && img.names.length > 1 && !force) {
    writeTx(ctx.db, () => ctx.images.untag(ref))
    return [`Untagged: ${normalizeImageName(ref)}`]
  }
  const users = ctx.containers.list().filter((c) => c.imageId === img.id)
  if (users.length > 0) {
    if (!force) throw new EngineError('IMAGE_IN_USE', `image used by ${users[0].id}: image is in use by a container: consider listing external containers and force-removing image`)
    throw new EngineError('IMAGE_IN_USE', `image ${img.id.slice(0, 12)} is in use by container ${users[0].name}; remove the container first`)
  }
  writeTx(ctx.db, () => ctx.images.remove(img.id))
  // Layers shared with another image stay.
  const stillUsed = new Set(ctx.images.list().flatMap((i) => i.layers))
  for (const l of img.layers) if (!stillUsed.has(l)) removeLayer(ctx.cfg.root, l)
  emit(ctx, 'image', 'remove', img.id, {})
  return [...img.names.map((n) => `Untagged: ${n}`), `Deleted: ${img.id}`]
}
