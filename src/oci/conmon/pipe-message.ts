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

// Reads messages from one pipe in order; `next()` resolves with the next message, or undefined at EOF.
export class PipeReader {
  readonly #queue: Array<PipeMessage | undefined> = []
  readonly #waiters: Array<(m: PipeMessage | undefined) => void> = []
  #buf = ''
  #ended = false

  constructor (stream: Readable) {
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      this.#buf += chunk
      let nl: number
      while ((nl = this.#buf.indexOf('\n')) !== -1) {
        const m = parsePipeMessage(this.#buf.slice(0, nl))
        this.#buf = this.#buf.slice(nl + 1)
        if (m !== undefined) this.#push(m)
      }
    })
    const end = (): void => {
      if (this.#ended) return
      this.#ended = true
      const m = this.#buf.trim() === '' ? undefined : parsePipeMessage(this.#buf)
      if (m !== undefined) this.#push(m)
      this.#push(undefined)
    }
    stream.on('end', end)
    stream.on('close', end)
    stream.on('error', end)
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
