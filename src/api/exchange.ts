// One request and its reply, whichever way Node handed it to us: a normal (req, res) pair, or an 'upgrade' event
// (req, raw socket, bytes past the headers) when the client sent `Connection: Upgrade`. Routes only see this class,
// so they answer the same way on both paths; hijack.ts takes the socket over for attach/exec streams.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { Duplex, Readable } from 'node:stream'
import { EngineError } from '../errors'
import { idleBody } from './idle-body'

/** JSON bodies larger than this are refused with 413 (archives for import/load are streamed, not limited). */
export const MAX_JSON_BODY = 1024 * 1024

/**
 * A request body that stops arriving for this long is abandoned and its connection closed (reliability, issue #6):
 * Node's headersTimeout covers only the head and requestTimeout is off (streams last), so without this a client
 * that sends half a body and stalls would hold its socket and handler forever.
 */
export const BODY_IDLE_MS = 30_000

/** How long an upgrade-path socket we answered and ended may stay open for the client to read the reply. */
const CLOSE_GRACE_MS = 5_000

// Destroys `sock` when no 'data' arrives on `from` for BODY_IDLE_MS; returns the disarm function.
function guardIdleBody (from: NodeJS.EventEmitter, sock: Duplex): () => void {
  let timer = setTimeout(() => sock.destroy(), BODY_IDLE_MS)
  const onData = (): void => { timer.refresh() }
  from.on('data', onData)
  return () => { clearTimeout(timer); from.removeListener('data', onData) }
}

export type ExchangeState = 'open' | 'sent' | 'streaming' | 'hijacked'

export interface ExchangeInit {
  req: IncomingMessage
  res?: ServerResponse
  /** Upgrade path: the socket and the bytes Node read past the request head. */
  socket?: Duplex
  head?: Buffer
  /** Headers every response carries (API version, OS type...). */
  baseHeaders: Record<string, string>
}

export class Exchange {
  readonly req: IncomingMessage
  readonly method: string
  readonly url: string
  state: ExchangeState = 'open'
  readonly #res?: ServerResponse
  readonly #socket?: Duplex
  #rest: Buffer
  #bodyRead = false
  #abandoned = false // bodyStream gave up the body before its end
  #body?: Readable
  readonly #base: Record<string, string>
  #endStream: () => void = () => undefined

  constructor (o: ExchangeInit) {
    this.req = o.req
    this.method = o.req.method ?? 'GET'
    this.url = o.req.url ?? '/'
    this.#res = o.res
    this.#socket = o.socket
    this.#rest = o.head ?? Buffer.alloc(0)
    this.#base = o.baseHeaders
  }

  /** True when Node gave us the raw socket ('upgrade' event): replies are written by hand. */
  get isUpgrade (): boolean { return this.#socket !== undefined }
  get responded (): boolean { return this.state !== 'open' }
  /** The ServerResponse on the normal path (hijack.ts detaches it from the socket). */
  get response (): ServerResponse | undefined { return this.#res }
  /** The underlying socket, for hijack.ts only. */
  get socket (): Duplex { return (this.#socket ?? this.req.socket) }

  // Reads the whole body up to `limit` bytes; more is a 413 (PAYLOAD_TOO_LARGE) before anything is buffered when the
  // client declared the length.
  async readBody (limit = MAX_JSON_BODY): Promise<Buffer> {
    if (this.#bodyRead) return Buffer.alloc(0)
    this.#bodyRead = true
    const declared = Number(this.req.headers['content-length'] ?? NaN)
    if (declared > limit) {
      // A client still writing its body when the 413 goes out sees EPIPE instead of the answer. Bodies of a sane
      // size are read and dropped first; beyond DRAIN_LIMIT the connection is simply closed after the reply.
      if (this.#socket === undefined && declared <= DRAIN_LIMIT) await drain(this.req)
      else if (this.#res !== undefined) this.#res.shouldKeepAlive = false
      throw tooLarge(limit)
    }
    if (this.#socket !== undefined) {
      // Node does not parse upgrade bodies; chunked ones would be taken for the start of the client's stdin.
      if (/chunked/i.test(String(this.req.headers['transfer-encoding'] ?? ''))) throw new EngineError('INVALID_ARGUMENT', 'a chunked request body is not supported with Connection: Upgrade; send Content-Length')
      return this.#readUpgradeBody(Number.isNaN(declared) ? 0 : declared)
    }
    // Listeners, not for-await: leaving a for-await early destroys the socket, and a chunked body over the limit
    // would get no 413 at all. Here reading stops, and the 413 goes out with Connection: close.
    const req = this.req
    const res = this.#res
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      let size = 0
      const disarm = guardIdleBody(req, req.socket)
      const done = (err?: EngineError): void => {
        disarm()
        req.removeListener('data', onData)
        req.removeListener('end', onEnd)
        req.removeListener('error', onGone)
        req.removeListener('close', onGone)
        if (err !== undefined) reject(err); else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))
      }
      const onData = (c: Buffer): void => {
        size += c.length
        if (size <= limit) { chunks.push(c); return }
        req.pause()
        if (res !== undefined) res.shouldKeepAlive = false
        done(tooLarge(limit))
      }
      const onEnd = (): void => done()
      const onGone = (): void => done(new EngineError('INVALID_ARGUMENT', 'request body not received: the connection ended first'))
      req.on('data', onData)
      req.once('end', onEnd)
      req.once('error', onGone)
      req.once('close', onGone)
    })
  }

  // Upgrade path: Node does not parse bodies of upgrade requests; take Content-Length bytes from `head` + socket.
  #readUpgradeBody (length: number): Promise<Buffer> {
    const sock = this.#socket as Duplex
    if (this.#rest.length >= length) {
      const body = this.#rest.subarray(0, length)
      this.#rest = this.#rest.subarray(length)
      return Promise.resolve(body)
    }
    return new Promise((resolve, reject) => {
      const chunks = [this.#rest]
      let have = this.#rest.length
      const onData = (d: Buffer): void => {
        chunks.push(d)
        have += d.length
        if (have < length) return
        cleanup()
        const all = Buffer.concat(chunks)
        this.#rest = all.subarray(length)
        resolve(all.subarray(0, length))
      }
      const onEnd = (): void => { cleanup(); reject(new EngineError('INVALID_ARGUMENT', 'unexpected end of request body')) }
      const cleanup = (): void => { disarm(); sock.pause(); sock.removeListener('data', onData); sock.removeListener('end', onEnd); sock.removeListener('error', onEnd); sock.removeListener('close', onEnd) }
      const disarm = guardIdleBody(sock, sock)
      sock.on('data', onData)
      sock.once('end', onEnd)
      sock.once('error', onEnd)
      sock.once('close', onEnd)
      sock.resume()
    })
  }

  // The body as a stream (image import/load archives); on the upgrade path it is whatever follows the head. It fails
  // with REQUEST_TIMEOUT when no byte arrives for `idleMs` while one is wanted (0: never). A body given up before its
  // end (that timeout, or an error of the engine) closes the connection after the reply, which still goes out.
  bodyStream (o: { idleMs: number }): Readable {
    this.#bodyRead = true
    const head = this.#rest
    this.#rest = Buffer.alloc(0)
    this.#body = idleBody(this.#socket ?? this.req, { idleMs: o.idleMs, head, onAbandon: () => { this.#abandoned = true; if (this.#res !== undefined) this.#res.shouldKeepAlive = false } })
    return this.#body
  }

  /** Bytes that arrived after the body on the upgrade path (the start of a hijacked client's stdin). */
  takeRest (): Buffer { const r = this.#rest; this.#rest = Buffer.alloc(0); return r }

  // A complete reply. `body` undefined: no body (204, 304, HEAD).
  send (status: number, body?: Buffer | string, contentType = 'application/json', extra?: Record<string, string>): void {
    if (this.state !== 'open') return
    this.state = 'sent'
    // A body the handler did not read to its end (it failed first) is given up: the connection closes after this.
    this.#body?.destroy()
    const buf = body === undefined || this.method === 'HEAD' ? undefined : (typeof body === 'string' ? Buffer.from(body) : body)
    const headers: Record<string, string | number> = extra === undefined ? { ...this.#base } : { ...this.#base, ...extra }
    if (body !== undefined) { headers['Content-Type'] = contentType; headers['Content-Length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.length }
    else if (status !== 204 && status !== 304) headers['Content-Length'] = 0
    if (this.#res !== undefined) {
      this.#res.writeHead(status, headers)
      this.#res.end(buf)
      // A client that stalled mid-body may not read the reply either: its socket goes after the grace.
      if (this.#abandoned) { const sock = this.req.socket; setTimeout(() => sock.destroy(), CLOSE_GRACE_MS).unref() }
      return
    }
    const sock = this.#socket as Duplex
    sock.write(rawHead(status, { ...headers, Connection: 'close' }))
    if (buf !== undefined) sock.write(buf)
    sock.end()
    // A client that never reads the reply or closes (say, still pushing an oversized body we refused) must not keep
    // the socket: upgrade-path sockets have no HTTP timeout. Reliability, issue #6.
    setTimeout(() => sock.destroy(), CLOSE_GRACE_MS).unref()
  }

  json (status: number, value: unknown): void { this.send(status, JSON.stringify(value) + '\n') }

  // Starts a streamed reply (events, logs, progress); write to the returned stream, end it when done. Chunked on
  // the normal path, raw until close on the upgrade path.
  stream (status: number, contentType: string): { write: (b: Buffer | string) => boolean, end: () => void, socket: Duplex } {
    this.state = 'streaming'
    const socket = this.socket
    if (this.#res !== undefined) {
      const res = this.#res
      res.writeHead(status, { ...this.#base, 'Content-Type': contentType })
      res.flushHeaders()
      this.#endStream = () => { res.end() }
      return { write: (b) => res.write(b), end: this.#endStream, socket }
    }
    socket.write(rawHead(status, { ...this.#base, 'Content-Type': contentType, Connection: 'close' }))
    this.#endStream = () => { socket.end() }
    return { write: (b) => socket.write(b), end: this.#endStream, socket }
  }

  /** Ends a streamed reply early (an error after the head went out). */
  endStream (): void { this.#endStream() }
}

/** Oversized bodies up to this size are read and dropped before the 413, so that the client gets to read it. */
const DRAIN_LIMIT = 64 * 1024 * 1024

// Reads and discards the rest of a request body (a client that stalls is cut off by guardIdleBody).
function drain (req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (req.readableEnded) { resolve(); return }
    const disarm = guardIdleBody(req, req.socket)
    const done = (): void => { disarm(); resolve() }
    req.once('end', done)
    req.once('close', done)
    req.once('error', done)
    req.resume()
  })
}

const tooLarge = (limit: number): EngineError => new EngineError('PAYLOAD_TOO_LARGE', `request body is too large (limit ${limit} bytes)`)

// An HTTP/1.1 response head written by hand.
export function rawHead (status: number, headers: Record<string, string | number>, reason = STATUS_CODES[status] ?? 'Unknown'): string {
  let s = `HTTP/1.1 ${status} ${reason}\r\n`
  for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`
  return s + '\r\n'
}
