// Bounds the memory one attached client can cost. node-unix-socket cannot pause reading the attach socket, so conmon's
// output arrives as fast as the process writes it, however slowly the client reads (an API client on a slow link):
// measured, 1 GiB to a client reading 8 MiB/s peaked the service at 645 MiB RSS. When the sinks hold more than
// HIGH_WATER bytes unwritten, packets go to an unlinked temporary file instead, in arrival order, and are replayed
// as the sinks drain. Nothing is dropped; memory stays near HIGH_WATER per client; the disk holds the rest (the file
// has no name, so it vanishes with its fd, even if the process is killed). A CLI writing to a pipe, file or tty
// writes synchronously, is never congested, and never spools.
import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmdirSync, unlinkSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Writable } from 'node:stream'

/** Unwritten bytes the sinks may hold before output is spooled to disk. */
export const HIGH_WATER = 4 * 1024 * 1024
const READ_CHUNK = 1024 * 1024
const HEADER = 5 // stream id (1) + payload length (4, big-endian)

export interface SpoolSinks {
  /** Writes one packet's payload to its sink (returns nothing: congestion is read from writableLength). */
  deliver: (streamId: number, data: Buffer) => void
  /** The sinks whose unwritten bytes count, and whose 'drain' resumes replay. */
  sinks: Writable[]
}

export class OutputSpool {
  readonly #o: SpoolSinks
  #fd: number | undefined
  #writePos = 0
  #readPos = 0
  #carry: Buffer = Buffer.alloc(0)
  #onEmpty: Array<() => void> = []
  #closed = false
  readonly #onDrain = (): void => { this.#replay() }

  constructor (o: SpoolSinks) {
    this.#o = o
    for (const s of new Set(o.sinks)) s.on('drain', this.#onDrain)
  }

  /** Bytes waiting on disk. */
  get spooled (): number { return this.#writePos - this.#readPos + this.#carry.length }

  #congested (): boolean {
    let n = 0
    for (const s of new Set(this.#o.sinks)) n += s.writableLength
    return n > HIGH_WATER
  }

  // Delivers a packet now, or spools it when the sinks are congested or older packets still wait (order is kept).
  push (streamId: number, data: Buffer): void {
    if (this.#closed) return
    if (this.spooled === 0 && !this.#congested()) { this.#o.deliver(streamId, data); return }
    if (this.#fd === undefined) this.#open()
    const head = Buffer.allocUnsafe(HEADER)
    head[0] = streamId
    head.writeUInt32BE(data.length, 1)
    this.#writePos += writeSync(this.#fd as number, head, 0, HEADER, this.#writePos)
    this.#writePos += writeSync(this.#fd as number, data, 0, data.length, this.#writePos)
  }

  // Resolves once every spooled packet has been handed to the sinks (at once when nothing is spooled).
  whenEmpty (): Promise<void> {
    if (this.spooled === 0) return Promise.resolve()
    return new Promise((resolve) => { this.#onEmpty.push(resolve); this.#replay() })
  }

  /** Drops what is spooled and releases the file (detach, abort, or the end of the pump). */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    for (const s of new Set(this.#o.sinks)) s.removeListener('drain', this.#onDrain)
    if (this.#fd !== undefined) closeSync(this.#fd)
    this.#fd = undefined
    for (const f of this.#onEmpty.splice(0)) f()
  }

  #open (): void {
    // Opened and unlinked at once: the data lives only as long as the fd.
    const dir = mkdtempSync(join(tmpdir(), 'conex-spool-'))
    const path = join(dir, 'output')
    this.#fd = openSync(path, 'w+', 0o600)
    unlinkSync(path)
    rmdirSync(dir)
  }

  // Hands spooled packets to the sinks until they are congested again or the file is empty.
  #replay (): void {
    if (this.#closed || this.#fd === undefined) return
    while (!this.#congested()) {
      if (this.#carry.length < HEADER || this.#carry.length < HEADER + this.#carry.readUInt32BE(1)) {
        if (this.#readPos >= this.#writePos) break
        const want = Math.min(READ_CHUNK, this.#writePos - this.#readPos)
        const buf = Buffer.allocUnsafe(want)
        const n = readSync(this.#fd, buf, 0, want, this.#readPos)
        this.#readPos += n
        this.#carry = this.#carry.length === 0 ? buf.subarray(0, n) : Buffer.concat([this.#carry, buf.subarray(0, n)])
        continue
      }
      const len = this.#carry.readUInt32BE(1)
      const id = this.#carry[0]
      // A copy: the payload must not pin the whole read chunk in the sink's queue.
      const data = Buffer.from(this.#carry.subarray(HEADER, HEADER + len))
      this.#carry = this.#carry.subarray(HEADER + len)
      this.#o.deliver(id, data)
    }
    if (this.spooled === 0) {
      // Everything is out: start the file over, so that a long session's spool does not only grow.
      this.#writePos = 0
      this.#readPos = 0
      this.#carry = Buffer.alloc(0)
      ftruncateSync(this.#fd, 0)
      for (const f of this.#onEmpty.splice(0)) f()
    }
  }
}
