// Output towards a WebSocket client, in order, with backpressure. Every frame (stdout, stderr, then the status) goes
// through one FIFO, so the status can never overtake output. While the socket's send buffer (ws.bufferedAmount) is
// above HIGH_WATER, the FIFO waits for the last frame to be flushed to the kernel; meanwhile the channel Writables
// hold their chunks, so their write() returns false as a slow client's should.
//
// The attach pump pauses reading the attach socket while those Writables are congested (docs/attach.md), so a slow
// client holds up the process instead of filling memory. MAX_BACKLOG stays as a guard for anything written past
// that (the status, a batch already read): beyond it the client is cut off (close 1008), the attach detaches and the
// process goes on.
import { Writable } from 'node:stream'
import WebSocket from 'ws'
import { encodeFrame } from './k8s-channels'

const HIGH_WATER = 1024 * 1024
export const MAX_BACKLOG = 64 * 1024 * 1024

interface Pending { frame: Buffer, done?: () => void }

export class FrameSender {
  readonly #ws: WebSocket
  readonly #queue: Pending[] = []
  #queued = 0
  #waiting = false

  constructor (ws: WebSocket) { this.#ws = ws }

  /** Bytes accepted but not yet handed to the socket. */
  get backlog (): number { return this.#queued }

  // Queues one frame; `done` runs when it has been handed to the socket (or dropped because the socket closed).
  push (frame: Buffer, done?: () => void): void {
    this.#queue.push({ frame, done })
    this.#queued += frame.length
    this.#pump()
  }

  // Writable for one output channel. Its chunks become frames; it finishes once all of them were handed over.
  channel (channel: number): Writable {
    return new Writable({
      highWaterMark: 64 * 1024,
      write: (chunk: Buffer, _enc, cb) => {
        if (this.#queued + this.#ws.bufferedAmount > MAX_BACKLOG) {
          this.#ws.close(1008, 'client too slow: output backlog exceeded')
          cb()
          return
        }
        this.push(encodeFrame(channel, chunk), () => cb())
      },
    })
  }

  #pump (): void {
    while (!this.#waiting && this.#queue.length > 0) {
      const p = this.#queue.shift() as Pending
      this.#queued -= p.frame.length
      if (this.#ws.readyState !== WebSocket.OPEN) { p.done?.(); continue }
      // Fast path: with room in the socket's buffer, frames are handed over at once and nothing waits.
      if (this.#ws.bufferedAmount + p.frame.length <= HIGH_WATER) {
        this.#ws.send(p.frame, { binary: true })
      } else {
        this.#waiting = true
        this.#ws.send(p.frame, { binary: true }, () => { this.#waiting = false; this.#pump() })
      }
      p.done?.()
    }
  }
}
