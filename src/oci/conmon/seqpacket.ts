// A SOCK_SEQPACKET connection (conmon's attach socket) over conex's native addon (native/seqpacket.c): packets arrive
// in batches, reading can be paused (real backpressure: conmon blocks writing to us and the process waits), and
// writes are one packet each, queued by the caller one at a time. Each incoming packet is conmon's: a stream id byte,
// then the payload; the addon reads payloads into a pool without copying them, and consecutive packets of one stream
// in a batch are handed on as one view of the pool.
import { loadAddon } from '../../util/addon'

type Handle = object
interface Native {
  connect: (path: string) => number
  open: (fd: number, onRead: (pool: Buffer | null, start: number, table: Buffer | number) => void) => Handle
  readStart: (h: Handle) => void
  readStop: (h: Handle) => void
  write: (h: Handle, buf: Buffer) => number
  waitWritable: (h: Handle, cb: () => void) => void
  shutdownWrite: (h: Handle) => void
  close: (h: Handle) => void
}

const EAGAIN = 11
let native: Native | undefined
const addon = (): Native => (native ??= loadAddon<Native>('seqpacket'))

export interface PacketHandlers {
  /**
   * Output of one stream: one packet's payload, or several consecutive packets' of the same stream read in one batch
   * (in order; a view of a pool buffer nobody writes to again: safe to keep). Packets with empty payloads are skipped.
   */
  packet: (streamId: number, data: Buffer) => void
  /** The peer closed (after every queued packet was delivered), or reading failed (err). Called once. */
  end: (err?: Error) => void
}

export class SeqpacketConn {
  readonly #h: Handle
  #handlers: PacketHandlers | undefined
  #closed = false
  #ended = false

  private constructor (fd: number) {
    this.#h = addon().open(fd, (pool, start, table) => { this.#onRead(pool, start, table) })
  }

  /** Connects synchronously; throws with `code` set (EAGAIN: the listener's backlog is full, try again). */
  static connect (path: string): SeqpacketConn {
    return new SeqpacketConn(addon().connect(path))
  }

  get closed (): boolean { return this.#closed }

  /** Starts (or resumes) delivering packets to `handlers`. */
  read (handlers: PacketHandlers): void {
    this.#handlers = handlers
    this.resume()
  }

  pause (): void { if (!this.#closed) addon().readStop(this.#h) }
  resume (): void { if (!this.#closed && !this.#ended && this.#handlers !== undefined) addon().readStart(this.#h) }

  /** Sends one packet; `done` runs once it is in the socket (or with the error, e.g. EPIPE once conmon is gone). */
  write (pkt: Buffer, done: (err?: Error) => void): void {
    if (this.#closed) { process.nextTick(done, new Error('attach socket closed')); return }
    let n: number
    try { n = addon().write(this.#h, pkt) } catch (err) { process.nextTick(done, err as Error); return }
    if (n === -EAGAIN) { addon().waitWritable(this.#h, () => { this.write(pkt, done) }); return }
    process.nextTick(done)
  }

  /** Half-closes: conmon sees EOF on our side and closes the process's stdin. */
  end (): void { if (!this.#closed) addon().shutdownWrite(this.#h) }

  /** Closes the socket; no callback runs after this. Idempotent. */
  destroy (): void {
    if (this.#closed) return
    this.#closed = true
    addon().close(this.#h)
  }

  #onRead (pool: Buffer | null, start: number, table: Buffer | number): void {
    if (this.#closed) return
    const h = this.#handlers
    if (h === undefined) return
    if (pool === null || typeof table === 'number') {
      if (this.#ended) return
      this.#ended = true
      const errno = typeof table === 'number' ? table : 0
      h.end(errno === 0 ? undefined : Object.assign(new Error(`attach socket read failed (errno ${errno})`), { errno }))
      return
    }
    // Runs of one stream id: their payloads are contiguous in the pool.
    let runId = -1
    let runStart = start
    let at = start
    for (let i = 0; i < table.length; i += 5) {
      const id = table[i]
      const len = table.readUInt32LE(i + 1)
      if (id !== runId) {
        if (at > runStart) h.packet(runId, pool.subarray(runStart, at))
        if (this.#closed) return
        runId = id
        runStart = at
      }
      at += len
    }
    if (at > runStart) h.packet(runId, pool.subarray(runStart, at))
  }
}
