// Streaming tar reader: ustar, GNU ('L'/'K' long names, base-256 numbers) and PAX ('x'/'g') archives, plain or
// gzip-compressed (detected by magic bytes). It yields one entry at a time and reads the input only as fast as the
// entry bodies are consumed, so a slow disk writer throttles the network or pipe feeding it.
import { pipeline, Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { EngineError } from '../errors'

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo'

// One archive member. `body` yields exactly `size` bytes (0 for anything but files); read it or leave it before
// asking for the next entry: an unread rest is skipped and the body is destroyed.
export interface TarEntry {
  path: string
  type: TarEntryType
  mode: number
  uid: number
  gid: number
  mtime: number // seconds since the epoch; PAX archives may give a fraction
  size: number
  linkname: string
  uname: string
  gname: string
  devmajor: number
  devminor: number
  xattrs: Record<string, Buffer> // from PAX SCHILY.xattr.<name>, values as raw bytes
  body: Readable
}

// Limits for the reader; metadata (PAX headers, GNU long names) is held in memory, so it is capped.
export interface ReadTarOptions {
  maxMetaBytes?: number
}

const BLOCK = 512
const BODY_CHUNK = 256 * 1024
const DEFAULT_MAX_META = 1024 * 1024
const MAX_META_RUN = 16 // metadata headers in a row; more is a loop of empty 'x' headers, not an archive
const MAX_TRAILER = 1024 * 1024 // padding read after the end marker (GNU tar pads to 10 KiB records)

const TYPES: Record<string, TarEntryType> = {
  0: 'file', '\0': 'file', 7: 'file', 1: 'hardlink', 2: 'symlink', 3: 'char', 4: 'block', 5: 'dir', 6: 'fifo',
}

const malformed = (message: string): EngineError => new EngineError('INVALID_ARGUMENT', `invalid tar archive: ${message}`)

// Pulls bytes from an async iterator on demand. All reads go through run(), which serialises them, because the
// entry generator and an entry body may both want bytes at the same moment.
class ByteSource {
  readonly #iter: AsyncIterator<unknown>
  #chunks: Buffer[] = []
  #len = 0
  #ended = false
  #tail: Promise<unknown> = Promise.resolve()

  constructor (iter: AsyncIterator<unknown>) { this.#iter = iter }

  get buffered (): number { return this.#len }

  run<T> (fn: () => Promise<T>): Promise<T> {
    const p = this.#tail.then(fn)
    this.#tail = p.catch(() => {})
    return p
  }

  async #pull (): Promise<boolean> {
    if (this.#ended) return false
    const r = await this.#iter.next()
    if (r.done === true) { this.#ended = true; return false }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array)
    if (chunk.length > 0) { this.#chunks.push(chunk); this.#len += chunk.length }
    return true
  }

  // Buffers at least n bytes unless the input ends first; returns how many are buffered.
  async fill (n: number): Promise<number> {
    while (this.#len < n && await this.#pull());
    return this.#len
  }

  peek (n: number): Buffer { return Buffer.concat(this.#chunks).subarray(0, n) }

  #take (n: number): Buffer {
    const first = this.#chunks[0]
    let out: Buffer
    if (first.length >= n) {
      out = first.subarray(0, n)
      if (first.length === n) this.#chunks.shift(); else this.#chunks[0] = first.subarray(n)
    } else {
      const all = Buffer.concat(this.#chunks)
      out = all.subarray(0, n)
      this.#chunks = all.length > n ? [all.subarray(n)] : []
    }
    this.#len -= n
    return out
  }

  // Exactly n bytes, or null at a clean end of input; a partial read is a truncated archive.
  async readExact (n: number): Promise<Buffer | null> {
    const have = await this.fill(n)
    if (have === 0) return null
    if (have < n) throw malformed(`unexpected end of data (wanted ${n} bytes, got ${have})`)
    return this.#take(n)
  }

  // Between 1 and max bytes, or null at the end of input.
  async readSome (max: number): Promise<Buffer | null> {
    if (this.#len === 0 && await this.fill(1) === 0) return null
    return this.#take(Math.min(max, this.#len))
  }

  async skip (n: number): Promise<void> {
    while (n > 0) {
      const b = await this.readSome(n)
      if (b === null) throw malformed('unexpected end of data while skipping an entry')
      n -= b.length
    }
  }

  // Discards what is left of the input, up to `limit` bytes.
  async skipRest (limit: number): Promise<void> {
    while (limit > 0) {
      const b = await this.readSome(BODY_CHUNK)
      if (b === null) return
      limit -= b.length
    }
  }

  // The rest of the input as chunks, starting with what is buffered.
  async * drain (): AsyncGenerator<Buffer> {
    while (this.#len > 0 || await this.fill(1) > 0) yield this.#take(this.#len)
  }

  async close (): Promise<void> { await this.#iter.return?.() }
}

// Wraps the input in a gunzip when it starts with the gzip magic; refuses other compressors by name.
async function openSource (input: Readable): Promise<ByteSource> {
  const raw = new ByteSource(input[Symbol.asyncIterator]())
  await raw.fill(10)
  const head = raw.peek(10)
  const starts = (...bytes: number[]): boolean => bytes.every((b, i) => head[i] === b)
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) throw malformed('zstd-compressed archives are not supported; decompress it first (zstd -d) or use gzip')
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) throw malformed('xz-compressed archives are not supported; decompress it first (xz -d) or use gzip')
  if (head.toString('latin1', 0, 3) === 'BZh' && head.toString('latin1', 4, 10) === '1AY&SY') {
    throw malformed('bzip2-compressed archives are not supported; decompress it first (bzip2 -d) or use gzip')
  }
  if (!starts(0x1f, 0x8b)) return raw
  const gunzip = createGunzip()
  pipeline(Readable.from(raw.drain(), { objectMode: false }), gunzip, () => {})
  const iter = gunzip[Symbol.asyncIterator]()
  return new ByteSource({
    next: async () => {
      try { return await iter.next() } catch (err) {
        const code = (err as { code?: string }).code
        if (typeof code === 'string' && code.startsWith('Z_')) throw malformed(`bad gzip data: ${(err as Error).message}`)
        throw err
      }
    },
    return: async () => { await iter.return?.(); await raw.close(); return { done: true, value: undefined } },
  })
}

const cString = (buf: Buffer): string => {
  const nul = buf.indexOf(0)
  return buf.toString('utf8', 0, nul === -1 ? buf.length : nul)
}

// Octal, space/NUL terminated, or GNU base-256 when the top bit of the first byte is set.
function parseNumber (buf: Buffer, field: string): number {
  if ((buf[0] & 0x80) !== 0) {
    let v = BigInt(buf[0] & 0x7f)
    for (let i = 1; i < buf.length; i++) v = (v << 8n) | BigInt(buf[i])
    if ((buf[0] & 0x40) !== 0) v -= 1n << BigInt(buf.length * 8 - 1) // 0xff...: two's complement negative
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(`${field} is out of range`)
    return Number(v)
  }
  const s = cString(buf).trim()
  if (s === '') return 0
  if (!/^[0-7]+$/.test(s)) throw malformed(`${field} field "${s}" is not an octal number`)
  return parseInt(s, 8)
}

function verifyChecksum (block: Buffer): void {
  const stored = parseNumber(block.subarray(148, 156), 'checksum')
  let unsigned = 0
  let signed = 0
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]
    unsigned += b
    signed += b > 127 ? b - 256 : b
  }
  if (stored !== unsigned && stored !== signed) throw malformed(`header checksum mismatch (stored ${stored}, computed ${unsigned})`)
}

// Decimal records "<len> <key>=<value>\n"; values stay raw bytes because SCHILY.xattr values are binary.
function parsePax (buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  let pos = 0
  while (pos < buf.length && buf[pos] !== 0) {
    const sp = buf.indexOf(0x20, pos)
    const lenText = sp === -1 ? '' : buf.toString('latin1', pos, sp)
    const len = Number(lenText)
    if (!/^[0-9]+$/.test(lenText) || len <= sp - pos + 1 || pos + len > buf.length || buf[pos + len - 1] !== 0x0a) {
      throw malformed(`bad PAX record at offset ${pos}`)
    }
    const rec = buf.subarray(sp + 1, pos + len - 1)
    const eq = rec.indexOf(0x3d)
    if (eq <= 0) throw malformed(`bad PAX record at offset ${pos}`)
    out.set(rec.toString('utf8', 0, eq), rec.subarray(eq + 1))
    pos += len
  }
  return out
}

function paxNumber (records: Map<string, Buffer>, key: string, fallback: number, float = false): number {
  const raw = records.get(key)
  if (raw === undefined) return fallback
  const s = raw.toString('latin1')
  if (!(float ? /^-?[0-9]+(\.[0-9]+)?$/ : /^[0-9]+$/).test(s) || !Number.isFinite(Number(s))) {
    throw malformed(`PAX ${key} "${s}" is not a number`)
  }
  return Number(s)
}

interface Header { name: string, typeflag: string, size: number, block: Buffer }

function parseHeader (block: Buffer): Header {
  verifyChecksum(block)
  const magic = block.toString('latin1', 257, 263)
  let name = cString(block.subarray(0, 100))
  if (magic === 'ustar\0') {
    const prefix = cString(block.subarray(345, 500))
    if (prefix !== '') name = `${prefix}/${name}`
  }
  return { name, typeflag: String.fromCharCode(block[156]), size: parseNumber(block.subarray(124, 136), 'size'), block }
}

// Reads every entry of a tar (or tar.gz) stream in order. Malformed input throws INVALID_ARGUMENT.
export async function * readTar (input: Readable, opts: ReadTarOptions = {}): AsyncGenerator<TarEntry> {
  const maxMeta = opts.maxMetaBytes ?? DEFAULT_MAX_META
  const source = await openSource(input)
  const globals = new Map<string, Buffer>()
  let local = new Map<string, Buffer>()
  let longName: string | undefined
  let longLink: string | undefined
  let current: { remaining: number, padding: number, body: Readable } | undefined
  let metaRun = 0
  try {
    for (;;) {
      if (current !== undefined) {
        const entry = current
        current = undefined
        await source.run(async () => {
          const unread = entry.remaining
          entry.remaining = 0
          await source.skip(unread + entry.padding)
          if (unread > 0) entry.body.destroy()
        })
      }
      const block = await source.run(() => source.readExact(BLOCK))
      if (block === null || block.every(b => b === 0)) break
      const h = parseHeader(block)
      const padding = (BLOCK - (h.size % BLOCK)) % BLOCK
      if ('LKxg'.includes(h.typeflag)) {
        if (++metaRun > MAX_META_RUN) throw malformed(`more than ${MAX_META_RUN} metadata headers in a row`)
        if (h.size > maxMeta) throw malformed(`${h.typeflag} metadata entry of ${h.size} bytes exceeds the ${maxMeta}-byte limit`)
        const data = await source.run(async () => {
          const d = h.size === 0 ? Buffer.alloc(0) : await source.readExact(h.size)
          if (d === null) throw malformed('unexpected end of data in a metadata entry')
          await source.skip(padding)
          return d
        })
        if (h.typeflag === 'L') longName = cString(data)
        else if (h.typeflag === 'K') longLink = cString(data)
        else if (h.typeflag === 'x') local = parsePax(data)
        else for (const [k, v] of parsePax(data)) globals.set(k, v)
        continue
      }
      metaRun = 0
      const pax = new Map([...globals, ...local])
      for (const [k, v] of local) if (v.length === 0) pax.delete(k) // an empty value unsets the keyword
      const entry = buildEntry(h, pax, longName, longLink)
      local = new Map()
      longName = undefined
      longLink = undefined
      const dataSize = entry.type === 'file' ? entry.size : 0
      const state = { remaining: dataSize, padding: entry.type === 'file' ? (BLOCK - (dataSize % BLOCK)) % BLOCK : 0, body: undefined as unknown as Readable }
      state.body = new Readable({
        highWaterMark: BODY_CHUNK,
        read () {
          source.run(async () => {
            if (state.remaining === 0) return null
            const want = Math.min(state.remaining, BODY_CHUNK)
            await source.fill(want) // fewer, larger chunks: one disk write per 256 KiB, not per input chunk
            const b = await source.readSome(want)
            if (b === null) throw malformed(`unexpected end of data in "${entry.path}"`)
            state.remaining -= b.length
            return b
          }).then(b => {
            if (b !== null) this.push(b)
            if (state.remaining === 0) this.push(null)
          }, err => this.destroy(err as Error))
        },
      })
      current = state
      yield { ...entry, body: state.body }
    }
    await source.run(() => source.skipRest(MAX_TRAILER)) // let the producer finish writing its padding
  } finally {
    await source.close()
  }
}

function buildEntry (h: Header, pax: Map<string, Buffer>, longName?: string, longLink?: string): Omit<TarEntry, 'body'> {
  const b = h.block
  for (const key of pax.keys()) {
    if (key.startsWith('GNU.sparse.')) throw malformed(`sparse files are not supported ("${longName ?? h.name}")`)
  }
  const path = pax.get('path')?.toString('utf8') ?? longName ?? h.name
  let type = TYPES[h.typeflag]
  if (type === undefined) throw malformed(`unsupported entry type "${h.typeflag}" for "${path}"`)
  if (type === 'file' && h.typeflag !== '7' && path.endsWith('/')) type = 'dir' // pre-POSIX directories
  const xattrs: Record<string, Buffer> = {}
  for (const [k, v] of pax) if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice('SCHILY.xattr.'.length)] = v
  const size = paxNumber(pax, 'size', h.size)
  return {
    path,
    type,
    mode: parseNumber(b.subarray(100, 108), 'mode') & 0o7777,
    uid: paxNumber(pax, 'uid', parseNumber(b.subarray(108, 116), 'uid')),
    gid: paxNumber(pax, 'gid', parseNumber(b.subarray(116, 124), 'gid')),
    mtime: paxNumber(pax, 'mtime', parseNumber(b.subarray(136, 148), 'mtime'), true),
    size: type === 'file' ? size : 0, // like Go's archive/tar: links, dirs and devices carry no data
    linkname: pax.get('linkpath')?.toString('utf8') ?? longLink ?? cString(b.subarray(157, 257)),
    uname: pax.get('uname')?.toString('utf8') ?? cString(b.subarray(265, 297)),
    gname: pax.get('gname')?.toString('utf8') ?? cString(b.subarray(297, 329)),
    devmajor: type === 'char' || type === 'block' ? parseNumber(b.subarray(329, 337), 'devmajor') : 0,
    devminor: type === 'char' || type === 'block' ? parseNumber(b.subarray(337, 345), 'devminor') : 0,
    xattrs,
  }
}
