// Client side of conmon's attach socket (`<bundle>/attach`, SOCK_SEQPACKET). Output packets are one stream-id byte
// (2 stdout, 3 stderr; with a tty everything is 2) plus up to 8192 bytes; input is raw bytes, no prefix, and conmon
// reads at most 32768 bytes per packet, so input is sent in packets no larger than that, one at a time (a larger
// SEQPACKET message would be truncated by conmon's read, losing bytes).
//
// Node's net module cannot open SEQPACKET sockets. We use node-unix-socket's SeqpacketSocket (prebuilt, maintained),
// which preserves packet boundaries and delivers every queued packet before EOF. Wrapping a raw fd in a libuv pipe
// handle is not an option: libuv treats POLLHUP after a short read as EOF and drops packets still queued
// (docs/attach.md has the measurement).
import { openSync, closeSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import type { SeqpacketSocket } from 'node-unix-socket'
import { DetachMatcher } from './detach-keys'
import { OutputSpool } from './output-spool'

export const STDOUT_ID = 2
export const STDERR_ID = 3
const MAX_INPUT_PACKET = 32768

export interface AttachIo {
  stdin?: Readable
  stdout?: Writable
  stderr?: Writable
  /** Detach sequence; empty or undefined disables it. */
  detachKeys?: Buffer
  /** Observes every output chunk (recording); called before the write. */
  onOutput?: (streamId: number, data: Buffer) => void
}

export type AttachEnd = 'eof' | 'detached' | 'aborted'

// The socket reads as soon as it is connected and emits 'data'/'end' whether or not anyone listens, while callers
// still have work to do before pumping (runtime start, exec start). What arrives meanwhile is held here and replayed
// by pumpAttach, so a process that prints and exits at once loses neither its output nor its end.
interface HeldOutput { packets: Buffer[], ended: boolean, onData: (pkt: Buffer) => void, onEnd: () => void }
const held = new WeakMap<SeqpacketSocket, HeldOutput>()

function holdOutput (sock: SeqpacketSocket): void {
  const h: HeldOutput = { packets: [], ended: false, onData: (pkt) => { h.packets.push(pkt) }, onEnd: () => { h.ended = true } }
  sock.on('data', h.onData)
  sock.on('end', h.onEnd)
  sock.on('error', h.onEnd)
  held.set(sock, h)
}

// Stops holding and returns what was held.
function releaseHeld (sock: SeqpacketSocket): { packets: Buffer[], ended: boolean } {
  const h = held.get(sock)
  if (h === undefined) return { packets: [], ended: false }
  held.delete(sock)
  sock.removeListener('data', h.onData)
  sock.removeListener('end', h.onEnd)
  sock.removeListener('error', h.onEnd)
  return h
}

let SocketClass: typeof SeqpacketSocket | undefined

// Loads node-unix-socket on first use. Its loader asks for a whole diagnostic report (process.report.getReport(),
// ~10 ms) only to learn whether libc is glibc or musl; we answer that from the filesystem instead, once.
function loadSocketClass (): typeof SeqpacketSocket {
  if (SocketClass !== undefined) return SocketClass
  const report = process.report
  const original = report?.getReport
  const musl = existsSync('/lib/ld-musl-x86_64.so.1') || existsSync('/lib/ld-musl-aarch64.so.1')
  if (report !== undefined && original !== undefined) {
    report.getReport = (() => ({ header: { glibcVersionRuntime: musl ? undefined : 'glibc' } })) as unknown as typeof report.getReport
  }
  try {
    SocketClass = (require('node-unix-socket') as typeof import('node-unix-socket')).SeqpacketSocket
  } finally {
    if (report !== undefined && original !== undefined) report.getReport = original
  }
  return SocketClass
}

// Connects to the attach socket in `bundleDir` through /proc/self/fd/N, which dodges the 108-byte sun_path limit.
export function connectAttachSocket (bundleDir: string): Promise<SeqpacketSocket> {
  const Sock = loadSocketClass()
  const dirfd = openSync(bundleDir, 'r')
  return new Promise((resolve, reject) => {
    const sock = new Sock()
    const fail = (err: Error): void => { try { closeSync(dirfd) } catch {} ; reject(err) }
    sock.once('error', fail)
    try {
      sock.connect(join('/proc/self/fd', String(dirfd), 'attach'), () => {
        closeSync(dirfd)
        sock.removeListener('error', fail)
        holdOutput(sock)
        resolve(sock)
      })
    } catch (err) { fail(err as Error) }
  })
}

// Pumps one attach connection: output to stdout/stderr (waiting for drain where the sink asks), stdin to the
// process. Resolves when conmon closes the connection (process ended), when the detach keys are typed, or on abort.
export function pumpAttach (sock: SeqpacketSocket, io: AttachIo, signal?: AbortSignal): Promise<AttachEnd> {
  return new Promise((resolve) => {
    let done = false
    let stdinEnded = false
    const matcher = new DetachMatcher(io.detachKeys ?? Buffer.alloc(0))
    const finish = (how: AttachEnd): void => {
      if (done) return
      done = true
      io.stdin?.removeListener('data', onStdin)
      io.stdin?.removeListener('end', onStdinEnd)
      io.stdin?.pause()
      signal?.removeEventListener('abort', onAbort)
      spool.close()
      if (how !== 'eof') sock.destroy()
      resolve(how)
    }
    // We cannot stop reading conmon; output a slow sink cannot take yet waits on disk, not in memory (output-spool.ts).
    const spool = new OutputSpool({
      deliver: (id, data) => { (id === STDERR_ID ? io.stderr : io.stdout)?.write(data) },
      sinks: [io.stdout, io.stderr].filter((w): w is Writable => w !== undefined),
    })
    const onPacket = (pkt: Buffer): void => {
      if (pkt.length < 1) return
      const id = pkt[0]
      const data = pkt.subarray(1)
      io.onOutput?.(id, data)
      if (id === STDERR_ID ? io.stderr !== undefined : io.stdout !== undefined) spool.push(id, data)
    }
    const onEnd = (): void => {
      // Output is complete; conmon has closed us. Report the end once the spooled output is in the sinks.
      sock.destroy()
      void spool.whenEmpty().then(() => finish('eof'))
    }
    const early = releaseHeld(sock)
    early.packets.forEach(onPacket)
    sock.on('data', onPacket)
    sock.on('end', onEnd)
    sock.on('error', () => { void spool.whenEmpty().then(() => finish('eof')) })
    const queue: Buffer[] = []
    let writing = false
    const pumpInput = (): void => {
      if (writing) return
      const next = queue.shift()
      if (next === undefined) {
        if (stdinEnded && !done) sock.end()
        else io.stdin?.resume()
        return
      }
      writing = true
      sock.write(next, 0, next.length, () => { writing = false; pumpInput() })
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
