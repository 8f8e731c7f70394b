// Extracts one image layer tar into an overlay "diff" directory without ever letting an entry land outside it:
// paths are cleaned lexically, parents are checked with lstat (never followed), links must stay inside, and
// OCI whiteouts become overlayfs whiteouts (char 0:0 devices, trusted.overlay.opaque=y).
import { execFile } from 'node:child_process'
import { constants, promises as fs, type Stats } from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { EngineError } from '../errors'
import { readTar, type TarEntry } from './tar-reader'

// Limits and switches for extractLayer; `tools` exists so tests can point at a missing binary.
export interface ExtractLayerOptions {
  maxBytes?: number // total file bytes; default 8 GiB
  maxEntries?: number // default 1,000,000
  onProgress?: (bytes: number) => void // called with the running byte total after each chunk
  allowSpecial?: boolean // create char/block device nodes (fifos are always allowed)
  chown?: boolean // apply uid/gid; default: only when running as root
  tools?: { mknod?: string, setfattr?: string }
}

// What extractLayer wrote: file bytes and archive entries (whiteouts and skipped entries included).
export interface ExtractResult { bytes: number, entries: number }

export const DEFAULT_MAX_BYTES = 8 * 1024 ** 3
export const DEFAULT_MAX_ENTRIES = 1_000_000

const unsafe = (message: string): EngineError => new EngineError('UNSAFE_ARCHIVE', message)

// Extended attributes worth restoring from a layer; trusted.* (overlay's own) and the rest are ignored.
const keepXattr = (name: string): boolean => name.startsWith('user.') || name === 'security.capability'

// Cleans an archive path to one relative to the destination ('' is the destination itself), or null when it is
// absolute or `..` climbs above it. Callers refuse both (isAbsoluteEntryPath tells them apart for the message); a
// leading './', as in `tar -C dir -c .` output, is fine.
export function normaliseEntryPath (raw: string): string | null {
  if (isAbsoluteEntryPath(raw)) return null
  const out: string[] = []
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue
    if (part !== '..') out.push(part)
    else if (out.pop() === undefined) return null
  }
  return out.join('/')
}

// Image layers (docker save, podman save, docker export, `tar -C dir -c .`) name members relative to the layer's
// root; an absolute name only comes from `tar -P` or a hand-made archive, and is refused rather than made relative.
export const isAbsoluteEntryPath = (raw: string): boolean => raw.startsWith('/')

export async function lstatOrNull (p: string): Promise<Stats | null> {
  try { return await fs.lstat(p) } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

// A destination directory whose subdirectories are created and checked one component at a time. `#dirs` caches
// relative paths known to be real directories (with all their ancestors); replacing a path forgets its subtree.
export class SafeTree {
  readonly root: string
  readonly #dirs = new Set<string>([''])

  constructor (root: string) { this.root = root }

  abs (rel: string): string { return rel === '' ? this.root : path.join(this.root, rel) }

  isKnownDir (rel: string): boolean { return this.#dirs.has(rel) }

  // Makes every parent of `rel` a real directory, creating missing ones unless `create` is false (then a missing
  // parent is reported as false). A symlink or non-directory on the way is refused, naming `entry`.
  async prepareParents (rel: string, entry: string, create = true): Promise<boolean> {
    const parts = rel.split('/')
    let cur = ''
    for (const part of parts.slice(0, -1)) {
      cur = cur === '' ? part : `${cur}/${part}`
      if (this.#dirs.has(cur)) continue
      const st = await lstatOrNull(this.abs(cur))
      if (st === null) {
        if (!create) return false
        await fs.mkdir(this.abs(cur), { mode: 0o755 })
      } else if (st.isSymbolicLink()) {
        throw unsafe(`archive entry "${entry}" would be written through the symlink "${cur}"`)
      } else if (!st.isDirectory()) {
        throw unsafe(`archive entry "${entry}" needs "${cur}" to be a directory, but it is not one`)
      }
      this.#dirs.add(cur)
    }
    return true
  }

  rememberDir (rel: string): void { this.#dirs.add(rel) }

  // Removes whatever is at `rel` (a whole tree for a directory; rm never follows symlinks) and forgets it.
  async remove (rel: string): Promise<void> {
    await fs.rm(this.abs(rel), { recursive: true, force: true })
    for (const d of this.#dirs) if (d === rel || d.startsWith(`${rel}/`)) this.#dirs.delete(d)
  }
}

function runTool (file: string, args: string[], what: string, pkg: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, (err, _stdout, stderr) => {
      if (err === null) return resolve()
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(unsafe(`${what}: ${file} is missing (install the ${pkg} package)`))
      }
      reject(unsafe(`${what}: ${String(stderr).trim() || err.message}`))
    })
  })
}

interface Ctx {
  tree: SafeTree
  opts: Required<Pick<ExtractLayerOptions, 'maxBytes' | 'maxEntries' | 'allowSpecial' | 'chown'>> & ExtractLayerOptions
  mknod: string
  setfattr: string
  bytes: number
  dirs: Map<string, Attrs> // directory attributes applied at the end, once their contents are written
}

// The part of an entry needed to apply its metadata; kept without the body for deferred directories.
type Attrs = Pick<TarEntry, 'path' | 'type' | 'mode' | 'uid' | 'gid' | 'mtime' | 'xattrs'>

// Extracts a layer tar (or tar.gz) into destDir, refusing anything unsafe with UNSAFE_ARCHIVE. On failure the
// directory holds a partial layer; the caller removes it.
export async function extractLayer (input: Readable, destDir: string, opts: ExtractLayerOptions = {}): Promise<ExtractResult> {
  await fs.mkdir(destDir, { recursive: true })
  const root = await fs.realpath(destDir)
  if (!(await fs.stat(root)).isDirectory()) throw new EngineError('INVALID_ARGUMENT', `layer destination "${destDir}" is not a directory`)
  const ctx: Ctx = {
    tree: new SafeTree(root),
    opts: { maxBytes: DEFAULT_MAX_BYTES, maxEntries: DEFAULT_MAX_ENTRIES, allowSpecial: false, chown: process.getuid?.() === 0, ...opts },
    mknod: opts.tools?.mknod ?? '/usr/bin/mknod',
    setfattr: opts.tools?.setfattr ?? '/usr/bin/setfattr',
    bytes: 0,
    dirs: new Map(),
  }
  let entries = 0
  for await (const entry of readTar(input)) {
    if (++entries > ctx.opts.maxEntries) throw unsafe(`archive has more than ${ctx.opts.maxEntries} entries`)
    await extractEntry(ctx, entry)
  }
  // Deepest first, so setting a parent's mtime is not undone by touching a child.
  for (const [rel, entry] of [...ctx.dirs].reverse()) {
    if (!ctx.tree.isKnownDir(rel)) continue // replaced later in the archive
    await applyAttributes(ctx, ctx.tree.abs(rel), entry)
  }
  return { bytes: ctx.bytes, entries }
}

async function extractEntry (ctx: Ctx, entry: TarEntry): Promise<void> {
  const name = entry.path
  if (name.includes('\0') || entry.linkname.includes('\0')) throw unsafe(`archive entry "${name}" contains a NUL byte`)
  if (isAbsoluteEntryPath(name)) throw unsafe(`archive entry "${name}" has an absolute path; layer entries must be relative`)
  const rel = normaliseEntryPath(name)
  if (rel === null) throw unsafe(`archive entry "${name}" escapes the destination`)
  if (rel === '') {
    if (entry.type !== 'dir') throw unsafe(`archive entry "${name}" would replace the destination directory`)
    return // the layer's "./": the diff directory itself keeps its own attributes
  }
  const base = path.posix.basename(rel)
  if (base.startsWith('.wh.')) return await whiteout(ctx, entry, rel, base.slice(4))
  if ((entry.type === 'char' || entry.type === 'block') && !ctx.opts.allowSpecial) {
    throw unsafe(`archive entry "${name}" is a ${entry.type} device; device nodes are refused unless allowSpecial is set`)
  }
  if (entry.size > ctx.opts.maxBytes - ctx.bytes) {
    throw unsafe(`archive entry "${name}" (${entry.size} bytes) takes the layer past the ${ctx.opts.maxBytes}-byte limit`)
  }
  let linkTarget = ''
  if (entry.type === 'hardlink') {
    linkTarget = await hardlinkTarget(ctx, entry)
    if (linkTarget === rel) return // a link to itself: nothing to do
  }
  await ctx.tree.prepareParents(rel, name)
  const abs = ctx.tree.abs(rel)
  const existing = await lstatOrNull(abs)
  if (existing !== null && !(entry.type === 'dir' && existing.isDirectory())) await ctx.tree.remove(rel)
  switch (entry.type) {
    case 'dir':
      if (existing === null || !existing.isDirectory()) await fs.mkdir(abs, { mode: 0o700 })
      ctx.tree.rememberDir(rel)
      ctx.dirs.delete(rel) // re-insert so the order stays "parents before children"
      ctx.dirs.set(rel, { path: name, type: 'dir', mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime, xattrs: entry.xattrs })
      return
    case 'file':
      return await writeFile(ctx, abs, entry)
    case 'symlink':
      if (entry.linkname === '') throw unsafe(`archive entry "${name}" is a symlink with an empty target`)
      await fs.symlink(entry.linkname, abs) // created, never followed: later writes through it are refused
      break
    case 'hardlink':
      await fs.link(ctx.tree.abs(linkTarget), abs)
      return // shares the target's inode and attributes
    case 'char': case 'block': case 'fifo': {
      const args = entry.type === 'fifo' ? [abs, 'p'] : [abs, entry.type === 'char' ? 'c' : 'b', String(entry.devmajor), String(entry.devminor)]
      await runTool(ctx.mknod, args, `cannot create ${entry.type} "${name}"`, 'coreutils')
      break
    }
  }
  await applyAttributes(ctx, abs, entry)
}

// Resolves a hard link's target inside the destination; it must already exist there and not be a directory. A hard
// link names another member, so an absolute target is refused like an absolute name (symlink targets are not
// checked: `/bin/busybox` is resolved inside the container at run time, and no write ever follows a symlink).
async function hardlinkTarget (ctx: Ctx, entry: TarEntry): Promise<string> {
  if (isAbsoluteEntryPath(entry.linkname)) throw unsafe(`archive entry "${entry.path}" hard-links the absolute path "${entry.linkname}"; link targets must be relative`)
  const target = normaliseEntryPath(entry.linkname)
  if (target === null || target === '') throw unsafe(`archive entry "${entry.path}" links to "${entry.linkname}", outside the destination`)
  const found = await ctx.tree.prepareParents(target, entry.path, false)
  const st = found ? await lstatOrNull(ctx.tree.abs(target)) : null
  if (st === null) throw unsafe(`archive entry "${entry.path}" links to "${entry.linkname}", which is not in the layer`)
  if (st.isDirectory()) throw unsafe(`archive entry "${entry.path}" hard-links the directory "${entry.linkname}"`)
  return target
}

async function writeFile (ctx: Ctx, abs: string, entry: TarEntry): Promise<void> {
  // O_EXCL|O_NOFOLLOW: the path was just cleared, so anything there now is refused rather than followed.
  const fh = await fs.open(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
  try {
    for await (const chunk of entry.body) {
      ctx.bytes += (chunk as Buffer).length
      if (ctx.bytes > ctx.opts.maxBytes) throw unsafe(`archive entry "${entry.path}" takes the layer past the ${ctx.opts.maxBytes}-byte limit`)
      await fh.write(chunk as Buffer)
      ctx.opts.onProgress?.(ctx.bytes)
    }
    if (ctx.opts.chown) await fh.chown(entry.uid, entry.gid)
    await fh.chmod(entry.mode) // after chown, which clears setuid/setgid
    await fh.utimes(entry.mtime, entry.mtime)
  } finally {
    await fh.close()
  }
  await applyXattrs(ctx, abs, entry)
}

// Owner, mode, then times; symlinks get only lchown and lutimes (Linux has no lchmod).
async function applyAttributes (ctx: Ctx, abs: string, entry: Attrs): Promise<void> {
  if (ctx.opts.chown) await fs.lchown(abs, entry.uid, entry.gid)
  if (entry.type !== 'symlink') {
    await fs.chmod(abs, entry.mode)
    await applyXattrs(ctx, abs, entry)
  }
  await fs.lutimes(abs, entry.mtime, entry.mtime)
}

async function applyXattrs (ctx: Ctx, abs: string, entry: Attrs): Promise<void> {
  for (const [key, value] of Object.entries(entry.xattrs)) {
    if (!keepXattr(key)) continue
    await runTool(ctx.setfattr, ['-h', '-n', key, '-v', `0x${value.toString('hex')}`, abs], `cannot set xattr ${key} on "${entry.path}"`, 'attr')
  }
}

// `.wh.NAME` hides NAME of lower layers (a 0:0 char device); `.wh..wh..opq` hides all of its directory's lower
// contents (trusted.overlay.opaque=y). Other `.wh..wh.*` names are aufs bookkeeping and are skipped.
async function whiteout (ctx: Ctx, entry: TarEntry, rel: string, hidden: string): Promise<void> {
  const dir = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel)
  await ctx.tree.prepareParents(rel, entry.path)
  if (hidden === '.wh..opq') {
    const abs = ctx.tree.abs(dir)
    await runTool(ctx.setfattr, ['-n', 'trusted.overlay.opaque', '-v', 'y', abs], `cannot mark "${dir || '/'}" opaque`, 'attr')
    return
  }
  if (hidden.startsWith('.wh.')) return
  if (hidden === '' || hidden === '.' || hidden === '..') throw unsafe(`archive entry "${entry.path}" is not a valid whiteout`)
  const target = dir === '' ? hidden : `${dir}/${hidden}`
  if (await lstatOrNull(ctx.tree.abs(target)) !== null) await ctx.tree.remove(target)
  const abs = ctx.tree.abs(target)
  await runTool(ctx.mknod, [abs, 'c', '0', '0'], `cannot create the whiteout for "${entry.path}"`, 'coreutils')
  if (ctx.opts.chown) await fs.lchown(abs, entry.uid, entry.gid)
}
