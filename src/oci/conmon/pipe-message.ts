// conmon's sync and attach pipes carry newline-terminated JSON: `{"data": N}` or `{"data": N, "message": "..."}`.
// This module owns that wire format on our side (conmon's parent_pipe_fd.c owns the other).
import type { Readable } from 'node:stream'

export interface PipeMessage { data: number, message?: string }

// Parses one line; returns undefined for anything that is not a conmon message.
export function parsePipeMessage (line: string): PipeMessage | undefined {
  try {
    const v = JSON.parse(line) as { data?: unknown, message?: unknown, pid?: unknown, exit_code?: unknown }
    const data = v.data ?? v.pid ?? v.exit_code
    if (typeof data !== 'number' || !Number.isInteger(data)) return undefined
    return typeof v.message === 'string' ? { data, message: v.message } : { data }
  } catch { return undefined }
}

// Reads messages from one pipe in order; `next()` resolves with the next message, or undefined at EOF. Fed by a
// stream (given to the constructor) or by the caller (feed() per chunk, end() at EOF: a pipe read with readFd). Lines
// are split on the bytes, so a UTF-8 message split between two reads still decodes whole.
export class PipeReader {
  readonly #queue: Array<PipeMessage | undefined> = []
  readonly #waiters: Array<(m: PipeMessage | undefined) => void> = []
  #buf: Buffer = Buffer.alloc(0)
  #ended = false

  constructor (stream?: Readable) {
    if (stream === undefined) return
    const end = (): void => this.end()
    stream.on('data', (chunk: Buffer) => this.feed(chunk))
    stream.on('end', end)
    stream.on('close', end)
    stream.on('error', end)
  }

  feed (chunk: Buffer): void {
    if (this.#ended) return
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
    let nl: number
    while ((nl = this.#buf.indexOf(10)) !== -1) {
      const m = parsePipeMessage(this.#buf.toString('utf8', 0, nl))
      this.#buf = this.#buf.subarray(nl + 1)
      if (m !== undefined) this.#push(m)
    }
  }

  end (): void {
    if (this.#ended) return
    this.#ended = true
    const rest = this.#buf.toString('utf8')
    const m = rest.trim() === '' ? undefined : parsePipeMessage(rest)
    if (m !== undefined) this.#push(m)
    this.#push(undefined)
  }

  #push (m: PipeMessage | undefined): void {
    const w = this.#waiters.shift()
    if (w !== undefined) w(m); else this.#queue.push(m)
  }

  next (): Promise<PipeMessage | undefined> {
    if (this.#queue.length > 0) {
      const m = this.#queue.shift()
      // Keep the EOF marker so every later call also sees EOF.
      if (m === undefined) this.#queue.unshift(undefined)
      return Promise.resolve(m)
    }
    if (this.#ended) return Promise.resolve(undefined)
    return new Promise((resolve) => this.#waiters.push(resolve))
  }
}
