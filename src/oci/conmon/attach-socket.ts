// Client side of conmon's attach socket (`<bundle>/attach`, SOCK_SEQPACKET). Output packets are one stream-id byte
// (2 stdout, 3 stderr; with a tty everything is 2) plus up to 8192 bytes; input is raw bytes, no prefix, and conmon
// reads at most 32768 bytes per packet, so input is sent in packets no larger than that, one at a time (a larger
// SEQPACKET message would be truncated by conmon's read, losing bytes).
//
// Node's net module cannot open SEQPACKET sockets; conex's own small addon does (seqpacket.ts, native/seqpacket.c;
// docs/attach.md says why it replaced node-unix-socket). Reading pauses while a sink is congested: conmon then blocks
// writing to us and the process waits on its stdout, as with dockerd. Nothing is dropped and nothing piles up here.
import { openSync, closeSync } from 'node:fs'
import type { Readable, Writable } from 'node:stream'
import { DetachMatcher } from './detach-keys'
import { SeqpacketConn } from './seqpacket'

export const STDOUT_ID = 2
export const STDERR_ID = 3
const MAX_INPUT_PACKET = 32768
const CONNECT_TRIES = 50
const CONNECT_RETRY_MS = 20

/**
 * A client's connection as a raw fd for its stdin (spliced into the process's stdin pipe: util/splice.ts), with what
 * had been read of it already (`head`, to go first). release() gives the connection back to its stream, which reads
 * on from where the splice stopped (EOF at once after a half-close).
 */
export interface StdinFd { fd: number, head: Buffer, release: () => Readable }

export interface AttachIo {
  stdin?: Readable
  /** The client's stdin as an fd, when it can be had (passthrough pipes use it instead of `stdin`). */
  stdinFd?: () => StdinFd | undefined
  stdout?: Writable
  stderr?: Writable
  /** Detach sequence; empty or undefined disables it. */
  detachKeys?: Buffer
  /** Observes every output chunk (recording); called before the write. */
  onOutput?: (streamId: number, data: Buffer) => void
}

export type AttachEnd = 'eof' | 'detached' | 'aborted'
export type AttachSocket = SeqpacketConn

// Between connect and pumpAttach callers still have work to do (runtime start, exec start: conmon reports the pid
// only after the process runs, and a process that prints more than the socket buffer before that would block conmon
// and so the pid). So the socket is read at once and what arrives is held here until pumpAttach replays it; a
// process that prints and exits at once loses neither its output nor its end.
interface HeldOutput { packets: Array<[number, Buffer]>, ended: boolean }
const held = new WeakMap<SeqpacketConn, HeldOutput>()

function holdOutput (sock: SeqpacketConn): void {
  const h: HeldOutput = { packets: [], ended: false }
  held.set(sock, h)
  sock.read({ packet: (id, data) => { h.packets.push([id, data]) }, end: () => { h.ended = true } })
}

// Connects to the attach socket in `bundleDir` through /proc/self/fd/N, which dodges the 108-byte sun_path limit.
// conmon's listen backlog is 10; a full backlog (many clients at once) is retried briefly.
export async function connectAttachSocket (bundleDir: string): Promise<SeqpacketConn> {
  for (let attempt = 1; ; attempt++) {
    const dirfd = openSync(bundleDir, 'r')
    try {
      const sock = SeqpacketConn.connect(`/proc/self/fd/${dirfd}/attach`)
      holdOutput(sock)
      return sock
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || attempt >= CONNECT_TRIES) throw err
    } finally {
      closeSync(dirfd)
    }
    await new Promise((resolve) => setTimeout(resolve, CONNECT_RETRY_MS))
  }
}

// Pumps one attach connection: output to stdout/stderr (reading pauses while a sink is congested and resumes on its
// 'drain'), stdin to the process. Resolves when conmon closes the connection (process ended), when the detach keys
// are typed, or on abort.
export function pumpAttach (sock: SeqpacketConn, io: AttachIo, signal?: AbortSignal): Promise<AttachEnd> {
  return new Promise((resolve) => {
    let done = false
    let stdinEnded = false
    let inputBroken = false
    const matcher = new DetachMatcher(io.detachKeys ?? Buffer.alloc(0))
    const congested = new Map<Writable, () => void>()
    const finish = (how: AttachEnd): void => {
      if (done) return
      done = true
      // Output still corked goes to the sinks now, before the caller hears of the end: replayed held output and the
      // end come in one synchronous run, and the caller's next steps (restoring the caller's terminal, exiting) may
      // all be synchronous too; a `conex exec -t` showed its output after the terminal was restored (\r\r\n).
      uncorkAll()
      io.stdin?.removeListener('data', onStdin)
      io.stdin?.removeListener('end', onStdinEnd)
      io.stdin?.pause()
      signal?.removeEventListener('abort', onAbort)
      for (const [w, onDrain] of congested) w.removeListener('drain', onDrain)
      congested.clear()
      sock.destroy()
      resolve(how)
    }
    const onPacket = (id: number, data: Buffer): void => {
      io.onOutput?.(id, data)
      const w = id === STDERR_ID ? io.stderr : io.stdout
      if (w === undefined) return
      // Packets come in batches; the sinks are corked until the batch has been handed over, so a sink that can
      // write many chunks at once (a socket, the API's frame writer) does so in one syscall.
      if (!corked.has(w)) {
        if (corked.size === 0) process.nextTick(uncorkAll)
        corked.add(w)
        w.cork()
      }
      w.write(data)
    }
    const corked = new Set<Writable>()
    // Uncorks, and pauses reading while a sink still holds more than its high-water mark (it will emit 'drain').
    const uncorkAll = (): void => {
      for (const w of corked) {
        w.uncork()
        if (done || congested.has(w) || w.writableLength <= w.writableHighWaterMark || !w.writableNeedDrain) continue
        const onDrain = (): void => {
          congested.delete(w)
          if (congested.size === 0 && !done) sock.resume()
        }
        congested.set(w, onDrain)
        w.once('drain', onDrain)
        sock.pause()
      }
      corked.clear()
    }
    // Output is complete (conmon closed us after its last packet) or the socket failed: either way the session's
    // output has ended; what the sinks still buffer is theirs to flush.
    const onEnd = (): void => { finish('eof') }
    const early = held.get(sock) ?? { packets: [], ended: false }
    held.delete(sock)
    sock.read({ packet: onPacket, end: onEnd })
    for (const [id, data] of early.packets) onPacket(id, data)
    const queue: Buffer[] = []
    let writing = false
    const pumpInput = (): void => {
      if (writing || done) return
      const next = inputBroken ? undefined : queue.shift()
      if (next === undefined) {
        if (stdinEnded || inputBroken) sock.end()
        else io.stdin?.resume()
        return
      }
      writing = true
      sock.write(next, (err) => {
        writing = false
        // conmon closed its side (the process has gone, or its stdin was closed): the rest of the input has nowhere
        // to go; output and the end still come.
        if (err !== undefined) { inputBroken = true; queue.length = 0; io.stdin?.removeListener('data', onStdin) }
        pumpInput()
      })
    }
    const send = (b: Buffer): void => {
      for (let off = 0; off < b.length; off += MAX_INPUT_PACKET) queue.push(b.subarray(off, off + MAX_INPUT_PACKET))
    }
    const onStdin = (chunk: Buffer | string): void => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      const r = matcher.scan(buf)
      if (r.forward.length > 0) send(r.forward)
      if (r.detached) { finish('detached'); return }
      // Hold stdin while packets are in flight: backpressure from conmon (it stops reading when the pipe is full).
      if (queue.length > 0) { io.stdin?.pause(); pumpInput() }
    }
    const onStdinEnd = (): void => {
      const rest = matcher.flush()
      if (rest.length > 0) send(rest)
      stdinEnded = true
      pumpInput()
    }
    const onAbort = (): void => finish('aborted')
    if (early.ended) { onEnd(); return }
    if (signal?.aborted === true) { finish('aborted'); return }
    signal?.addEventListener('abort', onAbort, { once: true })
    if (io.stdin !== undefined) {
      io.stdin.on('data', onStdin)
      io.stdin.once('end', onStdinEnd)
      io.stdin.resume()
    }
  })
}
