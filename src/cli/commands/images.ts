// Image commands: images, tag, rmi, import, load (and the `conex image` group).
import { createReadStream, statSync } from 'node:fs'
import type { Readable } from 'node:stream'
import type { Command, CliContext } from '../command'
import { bool, list, str } from '../args'
import { ago, humanSize } from '../human'
import { invalid } from '../../errors'
import { progressReporter } from '../progress'

export const images: Command = {
  name: 'images',
  usage: 'conex images [options]',
  summary: 'List images in local storage',
  maxArgs: 1,
  flags: [
    { name: 'quiet', short: 'q', type: 'bool', help: 'Display only image IDs' },
    { name: 'no-trunc', type: 'bool', help: 'Do not truncate output' },
    { name: 'format', type: 'string', help: 'Change the output format to JSON or a Go template' },
    { name: 'all', short: 'a', type: 'bool', help: 'Show all images (accepted: there are no intermediate images)' },
  ],
  run: async (ctx, p) => {
    const e = ctx.engine()
    await import('../../engine/image/image-service').then((m) => m.ensureBuiltinImage(e.ctx))
    let imgs = await e.listImages()
    if (p.args[0] !== undefined) imgs = imgs.filter((i) => i.names.some((n) => n.includes(p.args[0])))
    const noTrunc = bool(p.flags, 'no-trunc')
    const id = (x: string): string => noTrunc ? `sha256:${x}` : x.slice(0, 12)
    if (bool(p.flags, 'quiet')) { ctx.out(imgs.map((i) => id(i.id) + '\n').join('')); return 0 }
    const rows = imgs.flatMap((i) => (i.names.length > 0 ? i.names : ['<none>:<none>']).map((n) => {
      const at = n.lastIndexOf(':')
      return { ID: id(i.id), Id: i.id, Repository: n.slice(0, at), Tag: n.slice(at + 1), Names: i.names, Created: ago(i.createdAt), CreatedAt: new Date(i.createdAt).toISOString(), Size: humanSize(i.size), VirtualSize: i.size }
    }))
    const fmt = str(p.flags, 'format')
    if (fmt === 'json') { ctx.out(JSON.stringify(rows, null, 4) + '\n'); return 0 }
    const f = await import('../format/format-output')
    if (fmt !== undefined) { ctx.out(f.formatList(f.unescapeFormat(fmt), rows)); return 0 }
    ctx.out(f.renderTable(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows.map((r) => [r.Repository, r.Tag, r.ID, r.Created, r.Size])))
    return 0
  },
}

export const tag: Command = {
  name: 'tag',
  usage: 'conex tag IMAGE TARGET_NAME [TARGET_NAME...]',
  summary: 'Add an additional name to a local image',
  minArgs: 2,
  flags: [],
  run: async (ctx, p) => {
    for (const n of p.args.slice(1)) await ctx.engine().tagImage(p.args[0], n)
    return 0
  },
}

export const rmi: Command = {
  name: 'rmi',
  usage: 'conex rmi [options] IMAGE [IMAGE...]',
  summary: 'Remove one or more images from local storage',
  minArgs: 1,
  flags: [{ name: 'force', short: 'f', type: 'bool', help: 'Remove the image even if it has other names' }],
  run: async (ctx, p) => {
    for (const ref of p.args) for (const line of await ctx.engine().removeImage(ref, bool(p.flags, 'force'))) ctx.out(line + '\n')
    return 0
  },
}

// Opens a file argument (or `-` for stdin) with its size for progress.
function openInput (path: string): { stream: Readable, size?: number } {
  if (path === '-') return { stream: process.stdin }
  let size: number
  try { size = statSync(path).size } catch { throw invalid(`${path}: no such file or directory`) }
  return { stream: createReadStream(path), size }
}

export const importCmd: Command = {
  name: 'import',
  usage: 'conex import [options] PATH [REFERENCE]',
  summary: 'Import a tarball to create a filesystem image',
  minArgs: 1,
  maxArgs: 2,
  flags: [
    { name: 'change', short: 'c', type: 'strings', help: 'Apply the following possible instructions to the created image: CMD | ENTRYPOINT | ENV | WORKDIR | USER | LABEL', arg: 'stringArray' },
    { name: 'message', short: 'm', type: 'string', help: 'Set commit message for imported image' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress output' },
  ],
  run: async (ctx, p) => {
    const input = openInput(p.args[0])
    const progress = progressReporter(ctx, 'Importing', input.size, bool(p.flags, 'quiet'))
    try {
      const img = await ctx.engine().importImage(input.stream, { tag: p.args[1], changes: list(p.flags, 'change'), message: str(p.flags, 'message'), onProgress: progress.update })
      progress.done()
      ctx.out(`sha256:${img.id}\n`)
    } catch (err) { progress.done(); throw err }
    return 0
  },
}

export const load: Command = {
  name: 'load',
  usage: 'conex load [options]',
  summary: 'Load image(s) from a tar archive (docker-archive or oci-archive)',
  maxArgs: 0,
  flags: [
    { name: 'input', short: 'i', type: 'string', help: 'Read from specified archive file (default: stdin)' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress the output' },
  ],
  run: async (ctx, p) => {
    const path = str(p.flags, 'input') ?? '-'
    if (path === '-' && process.stdin.isTTY) throw invalid('cannot read from terminal, use command-line redirection or the --input flag')
    const input = openInput(path)
    const progress = progressReporter(ctx, 'Loading', input.size, bool(p.flags, 'quiet'))
    try {
      const names = await ctx.engine().loadImages(input.stream, progress.update)
      progress.done()
      ctx.out(`Loaded image: ${names.join('\nLoaded image: ')}\n`)
    } catch (err) { progress.done(); throw err }
    return 0
  },
}

export const imageGroup = (inspect: Command): Command => ({
  name: 'image',
  usage: 'conex image [command]',
  summary: 'Manage images',
  flags: [],
  subcommands: [{ ...images, name: 'ls', aliases: ['list'] }, tag, { ...rmi, name: 'rm' }, importCmd, load, { ...inspect, name: 'inspect' }],
})

export type { CliContext }
