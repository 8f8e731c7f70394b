// Reads an image tarball, either docker-archive (`docker save`: manifest.json) or oci-archive (`podman save
// --format oci-archive`: oci-layout + index.json + blobs/), into plain files under a work directory, checks every
// sha256 the format states, and describes the images it holds. Layers are left as files for extractLayer.
import { createHash } from 'node:crypto'
import { constants, createReadStream, promises as fs } from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { EngineError } from '../errors'
import { isAbsoluteEntryPath, normaliseEntryPath, SafeTree, lstatOrNull } from './extract-layer'
import { readTar } from './tar-reader'

// One image found in an archive. `config` is the whole image config JSON (its `.config` has Env, Cmd, ...).
export interface ArchiveImage {
  config: Record<string, unknown>
  configDigest: string // hex sha256 of the config file's bytes: the image id
  repoTags: string[] // e.g. "docker.io/library/alpine:3.19"; empty for an untagged image
  layerPaths: string[] // absolute paths inside workDir, base layer first; each a tar or tar.gz
  diffIds: string[] // hex sha256 of each layer's uncompressed tar (config rootfs.diff_ids), verified
}

// Limits for reading the outer archive; `architecture` picks from multi-platform indexes (default: this host).
export interface ReadImageArchiveOptions {
  maxBytes?: number // total bytes saved to workDir; default 8 GiB
  maxEntries?: number // default 100,000
  onProgress?: (bytes: number) => void
  architecture?: string
}

const unsafe = (message: string): EngineError => new EngineError('UNSAFE_ARCHIVE', message)
const invalid = (message: string): EngineError => new EngineError('INVALID_ARGUMENT', message)

const MAX_JSON_BYTES = 16 * 1024 * 1024
const HEX64 = /^[a-f0-9]{64}$/
const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']
const MANIFEST_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']
const GOARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' }

interface Member { digest: string, size: number }

// The saved members: files on disk with their sha256, and links kept only as aliases (never created on disk).
class Members {
  readonly files = new Map<string, Member>()
  readonly links = new Map<string, string>()
  readonly #diffIds = new Map<string, string>()
  readonly tree: SafeTree

  constructor (root: string) { this.tree = new SafeTree(root) }

  // Follows aliases to a saved file; `what` names the reference in errors.
  resolve (ref: string, what: string): { rel: string, member: Member } {
    let rel = normaliseEntryPath(ref)
    if (rel === null) throw unsafe(`${what} "${ref}" ${isAbsoluteEntryPath(ref) ? 'is an absolute path' : 'escapes the archive'}`)
    for (let hops = 0; hops < 16 && this.links.has(rel); hops++) rel = this.links.get(rel) as string
    const member = this.files.get(rel)
    if (member === undefined) throw invalid(`${what} "${ref}" is missing from the archive`)
    return { rel, member }
  }

  async readJson (ref: string, what: string): Promise<Record<string, unknown>> {
    const { rel, member } = this.resolve(ref, what)
    if (member.size > MAX_JSON_BYTES) throw invalid(`${what} "${ref}" is larger than ${MAX_JSON_BYTES} bytes`)
    let value: unknown
    try { value = JSON.parse(await fs.readFile(this.tree.abs(rel), 'utf8')) } catch (err) {
      throw invalid(`${what} "${ref}" is not valid JSON: ${(err as Error).message}`)
    }
    if (typeof value !== 'object' || value === null) throw invalid(`${what} "${ref}" is not a JSON object`)
    return value as Record<string, unknown>
  }

  // sha256 of the layer once decompressed (its diff id); equal to the file digest for a plain tar.
  async diffId (rel: string, what: string): Promise<string> {
    const cached = this.#diffIds.get(rel)
    if (cached !== undefined) return cached
    const abs = this.tree.abs(rel)
    const fh = await fs.open(abs, 'r')
    const { buffer: head } = await fh.read(Buffer.alloc(4), 0, 4, 0).finally(() => fh.close())
    let id = (this.files.get(rel) as Member).digest
    if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) throw invalid(`${what} is zstd-compressed, which is not supported`)
    if (head[0] === 0x1f && head[1] === 0x8b) {
      const hash = createHash('sha256')
      try {
        for await (const chunk of createReadStream(abs).pipe(createGunzip())) hash.update(chunk as Buffer)
      } catch (err) { throw invalid(`${what} is not valid gzip: ${(err as Error).message}`) }
      id = hash.digest('hex')
    }
    this.#diffIds.set(rel, id)
    return id
  }
}

// Reads an image archive from `input`, saving its members under workDir (created if missing), and returns its
// images. Unsafe member paths and digest mismatches throw UNSAFE_ARCHIVE; malformed archives INVALID_ARGUMENT.
export async function readImageArchive (input: Readable, workDir: string, opts: ReadImageArchiveOptions = {}): Promise<ArchiveImage[]> {
  await fs.mkdir(workDir, { recursive: true })
  const members = new Members(await fs.realpath(workDir))
  await saveMembers(input, members, opts)
  const arch = opts.architecture ?? GOARCH[process.arch] ?? process.arch
  let images: ArchiveImage[]
  if (members.files.has('manifest.json')) images = await readDockerArchive(members)
  else if (members.files.has('index.json')) images = await readOciArchive(members, arch)
  else throw invalid('not an image archive: it has neither manifest.json (docker-archive) nor index.json (oci-archive)')
  const byId = new Map<string, ArchiveImage>() // one image saved under several names is listed once
  for (const img of images) {
    const seen = byId.get(img.configDigest)
    if (seen === undefined) byId.set(img.configDigest, img)
    else for (const tag of img.repoTags) if (!seen.repoTags.includes(tag)) seen.repoTags.push(tag)
  }
  return [...byId.values()]
}

async function saveMembers (input: Readable, members: Members, opts: ReadImageArchiveOptions): Promise<void> {
  const maxBytes = opts.maxBytes ?? 8 * 1024 ** 3
  const maxEntries = opts.maxEntries ?? 100_000
  let bytes = 0
  let entries = 0
  for await (const entry of readTar(input)) {
    if (++entries > maxEntries) throw unsafe(`image archive has more than ${maxEntries} entries`)
    if (isAbsoluteEntryPath(entry.path)) throw unsafe(`archive member "${entry.path}" has an absolute path; archive members must be relative`)
    const rel = entry.path.includes('\0') ? null : normaliseEntryPath(entry.path)
    if (rel === null) throw unsafe(`archive member "${entry.path}" escapes the work directory`)
    if (entry.type === 'dir') continue
    if (rel === '') throw unsafe(`archive member "${entry.path}" would replace the work directory`)
    if (entry.type === 'symlink' || entry.type === 'hardlink') {
      // docker save links a layer shared by two images; keep the alias, create nothing
      const target = entry.linkname.startsWith('/') ? null : normaliseEntryPath(entry.type === 'symlink' ? path.posix.join(path.posix.dirname(rel), entry.linkname) : entry.linkname)
      if (target === null || target === '') throw unsafe(`archive member "${entry.path}" links to "${entry.linkname}", outside the archive`)
      members.links.set(rel, target)
      continue
    }
    if (entry.type !== 'file') throw unsafe(`archive member "${entry.path}" is a ${entry.type}; image archives hold only files, directories and links`)
    if (entry.size > maxBytes - bytes) throw unsafe(`archive member "${entry.path}" (${entry.size} bytes) takes the archive past the ${maxBytes}-byte limit`)
    await members.tree.prepareParents(rel, entry.path)
    const abs = members.tree.abs(rel)
    if (await lstatOrNull(abs) !== null) await members.tree.remove(rel)
    members.links.delete(rel)
    const hash = createHash('sha256')
    const fh = await fs.open(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    try {
      for await (const chunk of entry.body) {
        hash.update(chunk as Buffer)
        await fh.write(chunk as Buffer)
        bytes += (chunk as Buffer).length
        opts.onProgress?.(bytes)
      }
    } finally { await fh.close() }
    members.files.set(rel, { digest: hash.digest('hex'), size: entry.size })
  }
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every(s => typeof s === 'string')

// rootfs.diff_ids as hex, which must list exactly one id per layer.
function configDiffIds (config: Record<string, unknown>, layers: number, what: string): string[] {
  const ids = (config.rootfs as { diff_ids?: unknown } | undefined)?.diff_ids
  if (!strings(ids) || !ids.every(id => /^sha256:[a-f0-9]{64}$/.test(id))) throw invalid(`${what} has no valid rootfs.diff_ids`)
  if (ids.length !== layers) throw invalid(`${what} lists ${ids.length} diff_ids but the manifest has ${layers} layers`)
  return ids.map(id => id.slice('sha256:'.length))
}

function expectDigest (actual: string, expected: string, what: string): void {
  if (actual !== expected) throw unsafe(`${what} has sha256 ${actual} but ${expected} was expected`)
}

async function checkLayers (members: Members, refs: string[], diffIds: string[], what: string): Promise<string[]> {
  const paths: string[] = []
  for (const [i, ref] of refs.entries()) {
    const { rel } = members.resolve(ref, `${what} layer`)
    expectDigest(await members.diffId(rel, `layer "${ref}"`), diffIds[i], `layer "${ref}" (uncompressed)`)
    paths.push(members.tree.abs(rel))
  }
  return paths
}

// docker-archive: manifest.json is [{Config, RepoTags, Layers}]; files are `<id>.json` + `<id>/layer.tar`, or
// blobs/sha256/<hex> since Docker 25. Names that are digests are checked; layers against rootfs.diff_ids.
async function readDockerArchive (members: Members): Promise<ArchiveImage[]> {
  const manifest: unknown = await members.readJson('manifest.json', 'docker manifest')
  if (!Array.isArray(manifest)) throw invalid('manifest.json is not a JSON array')
  const images: ArchiveImage[] = []
  for (const [i, item] of (manifest as Array<Record<string, unknown>>).entries()) {
    const what = `manifest.json entry ${i}`
    const repoTags = item?.RepoTags ?? []
    if (typeof item?.Config !== 'string' || !strings(item.Layers) || !strings(repoTags)) {
      throw invalid(`${what} needs Config (string), Layers (string[]) and RepoTags (string[] or null)`)
    }
    const cfg = members.resolve(item.Config, `${what} config`)
    const cfgName = /^([a-f0-9]{64})(\.json)?$/.exec(path.posix.basename(cfg.rel))
    if (cfgName !== null) expectDigest(cfg.member.digest, cfgName[1], `config "${item.Config}"`)
    for (const ref of item.Layers) {
      const layer = members.resolve(ref, `${what} layer`)
      const named = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(layer.rel)
      if (named !== null) expectDigest(layer.member.digest, named[1], `layer "${ref}"`)
    }
    const config = await members.readJson(item.Config, `${what} config`)
    const diffIds = configDiffIds(config, item.Layers.length, `config "${item.Config}"`)
    const layerPaths = await checkLayers(members, item.Layers, diffIds, what)
    images.push({ config, configDigest: cfg.member.digest, repoTags: [...repoTags], layerPaths, diffIds })
  }
  return images
}

interface Descriptor { mediaType?: string, digest: string, size?: number, annotations?: Record<string, string>, platform?: { os?: string, architecture?: string } }

function asDescriptor (v: unknown, what: string): Descriptor {
  const d = v as Descriptor | null
  if (typeof d !== 'object' || d === null || typeof d.digest !== 'string') throw invalid(`${what} is not a descriptor with a digest`)
  return d
}

// A content-addressed blob: the digest picks the file, and the file's bytes must hash back to it.
function blob (members: Members, desc: Descriptor, what: string): string {
  const m = /^sha256:(.*)$/.exec(desc.digest)
  if (m === null) throw invalid(`${what} uses digest "${desc.digest}"; only sha256 is supported`)
  if (!HEX64.test(m[1])) throw unsafe(`${what} has a malformed digest "${desc.digest}"`)
  const { rel, member } = members.resolve(`blobs/sha256/${m[1]}`, what)
  expectDigest(member.digest, m[1], `${what} blob`)
  if (typeof desc.size === 'number' && desc.size !== member.size) throw unsafe(`${what} blob is ${member.size} bytes but its descriptor says ${desc.size}`)
  return rel
}

// oci-archive: index.json → (nested indexes, one platform picked) → image manifests → config and layer blobs.
async function readOciArchive (members: Members, arch: string): Promise<ArchiveImage[]> {
  const layout = await members.readJson('oci-layout', 'OCI layout file')
  if (typeof layout.imageLayoutVersion !== 'string') throw invalid('oci-layout has no imageLayoutVersion')
  const index = await members.readJson('index.json', 'OCI index')
  if (!Array.isArray(index.manifests)) throw invalid('index.json has no manifests array')
  const images: ArchiveImage[] = []
  for (const [i, raw] of index.manifests.entries()) {
    const desc = asDescriptor(raw, `index.json manifest ${i}`)
    const ann = desc.annotations ?? {}
    const ref = ann['io.containerd.image.name'] ?? ann['org.opencontainers.image.ref.name']
    // A bare ref.name such as "latest" is only a tag with no repository; it cannot name the image.
    const repoTags = typeof ref === 'string' && /[:/]/.test(ref) ? [ref] : []
    const manifest = await pickManifest(members, desc, arch, 0)
    images.push({ ...await ociImage(members, manifest, desc.digest), repoTags })
  }
  return images
}

async function pickManifest (members: Members, desc: Descriptor, arch: string, depth: number): Promise<Record<string, unknown>> {
  const what = `manifest ${desc.digest}`
  const json = await members.readJson(blob(members, desc, what), what)
  const type = desc.mediaType ?? json.mediaType
  if (typeof type === 'string' && MANIFEST_TYPES.includes(type)) return json
  if (typeof type !== 'string' || !INDEX_TYPES.includes(type)) throw invalid(`${what} has unsupported media type "${String(type)}"`)
  if (depth >= 4 || !Array.isArray(json.manifests)) throw invalid(`${what} is a malformed or too deeply nested index`)
  const choices = json.manifests.map((m, i) => asDescriptor(m, `${what} entry ${i}`))
    .filter(m => m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest')
  const chosen = choices.length === 1 ? choices[0] : choices.find(m => m.platform?.os === 'linux' && m.platform.architecture === arch)
  if (chosen === undefined) {
    const found = choices.map(m => `${m.platform?.os ?? '?'}/${m.platform?.architecture ?? '?'}`).join(', ')
    throw invalid(`${what} has no image for linux/${arch} (it has ${found || 'none'})`)
  }
  return await pickManifest(members, chosen, arch, depth + 1)
}

async function ociImage (members: Members, manifest: Record<string, unknown>, digest: string): Promise<Omit<ArchiveImage, 'repoTags'>> {
  const what = `manifest ${digest}`
  const configDesc = asDescriptor(manifest.config, `${what} config`)
  if (!Array.isArray(manifest.layers)) throw invalid(`${what} has no layers array`)
  const layers = manifest.layers.map((l, i) => asDescriptor(l, `${what} layer ${i}`))
  const configRel = blob(members, configDesc, `${what} config`)
  const config = await members.readJson(configRel, `${what} config`)
  for (const l of layers) {
    if (l.mediaType?.includes('zstd') === true) throw invalid(`layer ${l.digest} is zstd-compressed (${l.mediaType}), which is not supported`)
  }
  const refs = layers.map((l, i) => blob(members, l, `${what} layer ${i}`))
  const diffIds = configDiffIds(config, layers.length, `config ${configDesc.digest}`)
  return { config, configDigest: members.files.get(configRel)?.digest as string, layerPaths: await checkLayers(members, refs, diffIds, what), diffIds }
}
