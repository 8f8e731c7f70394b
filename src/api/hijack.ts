// Taking a connection over for attach and exec streams (Docker's "hijack"). After the request body, the socket stops
// being HTTP: we write the response head ourselves, then process output (stdcopy frames, or raw with a tty) goes
// one way and the client's raw stdin the other, until the process ends. A client half-close (FIN) is the end of
// stdin; a full close only detaches (the process goes on, as with dockerd).
//
// Node gives us the socket in two ways. With `Connection: Upgrade` (docker CLI, docker-py, dockerode with
// hijack) the 'upgrade' event hands it over already detached from the HTTP parser. Without it (podman remote,
// dockerode without hijack) the request arrives as a normal request, and we detach the parser ourselves exactly as
// Node does before emitting 'upgrade' (_http_server.js onParserExecuteCommon): drop its listeners, and adding our
// own 'data' listener makes Node un-consume the stream handle. Clients send stdin only after reading our head,
// so no stdin byte can have reached the parser before we take over.
//
// With Upgrade, the client's stdin is read as a stream (`stdin`) only once someone asks for it; an exec session
// whose process has a stdin pipe takes the connection's fd instead (takeStdinFd) and splices from it
// (util/splice.ts).
import type { Socket } from 'node:net'
import type { StdinFd } from '../oci/conmon/attach-socket'
import { PassThrough, type Duplex, type Readable, type Writable } from 'node:stream'
import { FrameWriter, STDERR, frame, outputWriters } from './stdcopy'
import { rawHead, type Exchange } from './exchange'
import { errorStatus } from './error-response'

export const RAW_STREAM = 'application/vnd.docker.raw-stream'
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream'

export interface HijackOptions {
  /** Raw bytes both ways (tty), or stdcopy frames for output. */
  tty: boolean
  /** Label multiplexed output as such (Docker API >= 1.42, libpod >= 4.7.0); older clients expect raw-stream. */
  multiplexedLabel: boolean
  /** Extra headers for the hijack head (API version and such). */
  headers: Record<string, string>
  log: (line: string) => void
}

// Detaches Node's HTTP machinery from a request's socket (normal request path only).
function detachFromHttp (x: Exchange): void {
  const sock = x.socket as Socket
  x.response?.detachSocket(sock)
  for (const ev of ['data', 'end', 'drain', 'timeout', 'error']) sock.removeAllListeners(ev)
}

// The parts of Node's stream handle that takeStdinFd works with (Node 20's net.Socket internals).
interface RawHandle { fd?: number, reading?: boolean, readStop?: () => number, readStart?: () => number }

export class Hijack {
  readonly socket: Duplex
  readonly stdout: Writable
  readonly stderr: Writable
  /** Aborted when the client goes away before we are done (detaches an attach, never kills the process). */
  readonly signal: AbortSignal
  readonly #o: HijackOptions
  readonly #x: Exchange
  #headSent = false
  #closed = false
  #ended = false
  #stdin: PassThrough | undefined
  #fdTaken = false

  constructor (x: Exchange, o: HijackOptions) {
    this.#x = x
    this.#o = o
    if (!x.isUpgrade) detachFromHttp(x)
    x.state = 'hijacked'
    const sock = x.socket
    this.socket = sock
    const ac = new AbortController()
    this.signal = ac.signal
    sock.on('error', () => { /* reported as 'close' */ })
    sock.once('close', () => { this.#closed = true; ac.abort() })
    ;(sock as Socket).setTimeout?.(0)
    ;(sock as Socket).setNoDelay?.(true)
    // Without Upgrade the HTTP parser reads the socket until a 'data' listener takes it over: at once, or the client's
    // first stdin bytes would be parsed as a request.
    if (!x.isUpgrade) void this.stdin
    const w = outputWriters(sock, { tty: o.tty })
    this.stdout = w.stdout
    this.stderr = w.stderr
  }

  get headSent (): boolean { return this.#headSent }

  /** The client's stdin: raw bytes after the request; ends when the client half-closes. Read from the first ask. */
  get stdin (): Readable {
    if (this.#stdin === undefined) {
      const stdin = this.#stdin = new PassThrough()
      const rest = this.#x.takeRest()
      if (rest.length > 0) stdin.write(rest)
      this.socket.pipe(stdin)
      this.socket.resume()
    }
    return this.#stdin
  }

  // The connection's fd, for a splice of the client's stdin, while nobody reads it as a stream: Node's reading is
  // stopped, and what it had read already (the request's rest, the socket's buffer) is the head. release() gives it
  // back to `stdin`, which reads on from where the splice stopped. undefined on a TLS connection (its fd carries
  // ciphertext), without Upgrade (the HTTP parser still owns the socket's reads), or once `stdin` exists.
  takeStdinFd (): StdinFd | undefined {
    if (this.#stdin !== undefined || this.#fdTaken || !this.#x.isUpgrade) return undefined
    const sock = this.socket as Socket & { encrypted?: boolean, _handle?: RawHandle | null }
    const h = sock._handle
    if (sock.encrypted === true || h == null || typeof h.fd !== 'number' || h.fd < 0 || typeof h.readStop !== 'function') return undefined
    this.#fdTaken = true
    sock.pause()
    if (h.reading === true) h.readStop()
    // Node restarts a handle that is not `reading` whenever the stream's buffer runs low (Socket._read); marked as
    // reading, it stays stopped while its buffer is drained here and while the splice runs.
    h.reading = true
    const parts: Buffer[] = [this.#x.takeRest()]
    for (let b = sock.read() as Buffer | null; b !== null; b = sock.read() as Buffer | null) parts.push(b)
    const release = (): Readable => {
      h.reading = false
      const stdin = this.stdin
      // The stream may believe a read is under way (a _read during the drain above that the mark turned into
      // nothing), and then never asks again: start the handle ourselves.
      if (!sock.destroyed && sock._handle === h && (h.reading as boolean | undefined) !== true && typeof h.readStart === 'function') {
        h.reading = true
        h.readStart()
      }
      return stdin
    }
    return { fd: h.fd, head: Buffer.concat(parts), release }
  }

  // Writes `101 UPGRADED` when the client asked to upgrade, else `200 OK`; idempotent. Call before any output.
  sendHead (): void {
    if (this.#headSent || this.#closed) return
    this.#headSent = true
    const contentType = !this.#o.tty && this.#o.multiplexedLabel ? MULTIPLEXED_STREAM : RAW_STREAM
    const proto = this.#x.req.headers.upgrade
    const head = proto !== undefined
      ? rawHead(101, { 'Content-Type': contentType, Connection: 'Upgrade', Upgrade: proto, ...this.#o.headers }, 'UPGRADED')
      : rawHead(200, { 'Content-Type': contentType, ...this.#o.headers }, 'OK')
    this.socket.write(head)
  }

  // Reports `err`: before the head as a plain HTTP error (status from the error table), after it inside the stream
  // ("Error: ...\n" in a stderr frame, or raw with a tty) as podman and dockerd do. Then closes the connection.
  fail (err: unknown): void {
    const { status, message, isBug } = errorStatus(err)
    if (isBug) this.#o.log(`API ${this.#x.method} ${this.#x.url}: internal error after hijack: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
    if (this.#closed) return
    if (!this.#headSent) {
      this.#headSent = true
      const body = JSON.stringify({ message }) + '\n'
      this.socket.write(rawHead(status, { ...this.#o.headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' }) + body)
      this.socket.end()
      return
    }
    const text = Buffer.from(`Error: ${message}${this.#o.tty ? '\r\n' : '\n'}`)
    this.socket.write(this.#o.tty ? text : frame(STDERR, text))
    this.socket.end()
  }

  // Ends our side of the connection at once when the output writers hold nothing (every frame already went to the
  // socket, the common case); true if it did. end() is still called after it, and then only settles the writers.
  endNow (): boolean {
    if (this.#closed || this.#ended || !this.#headSent) return false
    if (this.stdout.writableLength > 0 || this.stderr.writableLength > 0) return false
    this.#ended = true
    this.socket.end()
    return true
  }

  // Flushes the output writers, then ends our side of the connection.
  async end (): Promise<void> {
    const ws = this.stdout === this.stderr ? [this.stdout] : [this.stdout, this.stderr]
    await Promise.all(ws.map((w) => new Promise<void>((resolve) => {
      if (w.writableFinished) { resolve(); return }
      w.once('finish', resolve)
      w.once('error', () => resolve())
      w.end()
    })))
    if (!this.#closed && !this.#ended) { this.#ended = true; this.sendHead(); this.socket.end() }
    // Input that comes after the session is read and dropped: a client still sending (its process stopped reading
    // stdin) is not left blocked in write, and its close is seen.
    this.#stdin?.resume()
  }

  /** Discards client input (sessions without stdin) so that a close is still noticed. */
  ignoreInput (): void {
    if (this.#stdin !== undefined || !this.#x.isUpgrade) { this.stdin.resume(); return }
    // Read and dropped straight from the socket: a PassThrough and a pipe for bytes nobody reads cost more than the
    // rest of a short exec's hijack.
    this.#x.takeRest()
    this.socket.on('data', () => {})
    this.socket.resume()
  }
}

export { FrameWriter }
