// Output writers for hijacked and streamed responses. Without a tty, Docker multiplexes stdout and stderr into one
// byte stream of frames `[stream, 0, 0, 0, BE32 length] + payload` (moby's stdcopy; 1 stdout, 2 stderr); with a tty
// the bytes go through raw. A single write() of a FrameWriter is one frame; writes made while it is corked (the attach
// pump corks for each batch of conmon packets read in one go) become one frame together: the bytes and their order
// are the same, a client just reads fewer, larger frames (dockerd sends up to 32 KiB per frame).
import { Writable } from 'node:stream'

export const STDOUT = 1
export const STDERR = 2

// Writes a frame header (stream, three zero bytes, BE32 length) at `at`.
function writeHeader (out: Buffer, at: number, stream: number, length: number): void {
  out.writeUInt32BE(stream << 24, at)
  out.writeUInt32BE(length, at + 4)
}

// A frame header alone.
function header (stream: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(8)
  writeHeader(h, 0, stream, length)
  return h
}

// Builds one frame: header and payload in a single buffer (errors written into a stream, tests).
export function frame (stream: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + payload.length)
  writeHeader(out, 0, stream, payload.length)
  payload.copy(out, 8)
  return out
}

// A Writable that forwards to `target`, framed for `stream` (1, 2) or raw (0). Backpressure: the write callback waits
// for the target's 'drain' only when the target's buffer is full, so the common case stays synchronous.
export class FrameWriter extends Writable {
  readonly #target: Writable
  readonly #stream: number

  constructor (target: Writable, stream: number) {
    super({ decodeStrings: true })
    this.#target = target
    this.#stream = stream
  }

  override _write (chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    // An empty chunk would be an empty frame, which some clients read as end of stream; skip it.
    if (chunk.length === 0) { cb(); return }
    this.#forward(this.#stream === 0 ? [chunk] : [header(this.#stream, chunk.length), chunk], cb)
  }

  // Chunks written while the writer was corked: one frame for all of them (raw: the chunks as they are).
  override _writev (chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    const parts: Buffer[] = []
    let total = 0
    for (const { chunk } of chunks) if (chunk.length > 0) { parts.push(chunk); total += chunk.length }
    if (total === 0) { cb(); return }
    if (this.#stream !== 0) parts.unshift(header(this.#stream, total))
    this.#forward(parts, cb)
  }

  // The header and the payload views go to the socket as they are, in one writev (corked): the output is not copied
  // on its way from conmon's packets to the client.
  #forward (parts: Buffer[], cb: (err?: Error | null) => void): void {
    const t = this.#target
    if (t.destroyed || t.writableEnded) { cb(); return }
    let ok = true
    if (parts.length === 1) ok = t.write(parts[0])
    else {
      t.cork()
      for (const p of parts) ok = t.write(p)
      t.uncork()
    }
    if (ok) cb()
    else {
      const done = (): void => { t.removeListener('close', done); t.removeListener('drain', done); cb() }
      t.once('drain', done)
      t.once('close', done)
    }
  }
}

// Writers for an attached process: framed stdout/stderr without a tty; with a tty both are the raw stream.
export function outputWriters (target: Writable, o: { tty: boolean }): { stdout: Writable, stderr: Writable } {
  if (o.tty) {
    const raw = new FrameWriter(target, 0)
    return { stdout: raw, stderr: raw }
  }
  return { stdout: new FrameWriter(target, STDOUT), stderr: new FrameWriter(target, STDERR) }
}
