// Pumps a passthrough exec session: conmon ran with `-l passthrough`, so the process's stdin, stdout and stderr are
// pipes whose other ends are ours (spawn.ts). Output goes from those pipes to the client's sinks in 64 KiB reads,
// with no conmon copy between, no SEQPACKET packets of 8 KiB and no stream-id byte; input goes straight into the
// process's stdin pipe, spliced there from the client's connection when the API has it as an fd (no byte through
// Node). Backpressure both ways is the pipes' own: a congested sink pauses our read and the process blocks in
// write(2); a full stdin pipe pauses the client's stream (or the splice, and the client waits in the kernel).
//
// The end of output: EOF on a pipe comes when every writer has closed it, the process and anything it started in the
// background that kept the fd (`sh -c 'daemon &'`). conmon's attach socket ends when the process exits, and so must
// this: once the exit is known (exited()), each pipe still open is read up to what it held at that moment (what the
// library has read so far plus FIONREAD: everything the process wrote, as it has exited) and closed then.
//
// A client that goes away (abort) does not end the session, as with dockerd: the output is read and dropped until it
// ends, so the process never blocks on a pipe nobody reads.
import type { Readable, Writable } from 'node:stream'
import type { Socket } from 'node:net'
import { constants } from 'node:os'
import type { ProcessPipes } from './spawn'
import type { AttachEnd, AttachIo } from './attach-socket'
import { STDOUT_ID, STDERR_ID } from './attach-socket'
import { pendingBytes } from '../../util/procspawn'
import { startSplice, spliceAvailable } from '../../util/splice'
import { trace } from '../../util/trace'

export interface PipePump {
  /** Settles when the process has exited and its output has been given ('eof'), or the client went away ('aborted'). */
  done: Promise<AttachEnd>
  /** The process has exited: end each output pipe once it has given what it held. */
  exited: () => void
  /** Settles once the pipes are closed: with `done` when the streams end, later after an abort (they are read on). */
  closed: Promise<void>
}

// One output pipe: forwards to its sink (or drops, once the client is gone) and ends at EOF or at its target.
class OutputPipe {
  #forwarded = 0
  #target: number | undefined
  #ended = false
  #sink: Writable | undefined
  #congested: (() => void) | undefined
  readonly ended: Promise<void>
  #resolve!: () => void

  constructor (private readonly sock: Socket, private readonly fd: number | undefined, sink: Writable | undefined, private readonly id: number, private readonly observe?: (id: number, data: Buffer) => void) {
    this.#sink = sink
    this.ended = new Promise((resolve) => { this.#resolve = resolve })
    sock.on('data', (b: Buffer) => this.#onData(b))
    sock.once('end', () => this.#end())
    sock.once('close', () => this.#end())
    sock.on('error', () => this.#end())
    // A net.Socket reads from its creation on: a process that wrote nothing and exited before this pump began has
    // had its EOF seen, and the socket closed, already (output it did write waits in the socket, and 'end' with it).
    if (sock.destroyed || sock.readableEnded) this.#end()
  }

  #onData (b: Buffer): void {
    if (this.#ended) return
    const keep = this.#target === undefined ? b : b.subarray(0, Math.max(0, this.#target - this.#forwarded))
    this.#forwarded += b.length
    if (keep.length > 0) {
      this.observe?.(this.id, keep)
      const w = this.#sink
      if (w !== undefined && !w.write(keep) && this.#congested === undefined) {
        this.sock.pause()
        this.#congested = () => { this.#congested = undefined; if (!this.#ended) this.sock.resume() }
        w.once('drain', this.#congested)
      }
    }
    if (this.#target !== undefined && this.#forwarded >= this.#target) this.#end()
  }

  // The process exited: what is left is what the stream library holds plus what the pipe holds.
  exited (): void {
    if (this.#ended || this.#target !== undefined) return
    // The fd is asked only while the socket is open: once closed, its number may be another pipe's already.
    if (this.sock.destroyed) { this.#end(); return }
    this.#target = this.sock.bytesRead + (this.fd === undefined ? 0 : pendingBytes(this.fd))
    if (this.#forwarded >= this.#target) this.#end()
  }

  // The client is gone: keep reading, drop the bytes.
  drop (): void {
    const w = this.#sink
    this.#sink = undefined
    if (w !== undefined && this.#congested !== undefined) w.removeListener('drain', this.#congested)
    this.#congested = undefined
    if (!this.#ended) this.sock.resume()
  }

  #end (): void {
    if (this.#ended) return
    this.#ended = true
    if (this.#congested !== undefined) this.#sink?.removeListener('drain', this.#congested)
    this.sock.destroy()
    this.#resolve()
  }
}

export function pumpPipes (pipes: ProcessPipes, io: AttachIo, signal?: AbortSignal): PipePump {
  const outs: OutputPipe[] = []
  if (pipes.stdout !== undefined) outs.push(new OutputPipe(pipes.stdout, pipes.stdoutFd, io.stdout, STDOUT_ID, io.onOutput))
  if (pipes.stderr !== undefined) outs.push(new OutputPipe(pipes.stderr, pipes.stderrFd, io.stderr, STDERR_ID, io.onOutput))
  const input = pipes.stdin
  let stdin: Readable | undefined
  let splice: { stop: () => void } | undefined
  let resolveDone!: (how: AttachEnd) => void
  const done = new Promise<AttachEnd>((resolve) => { resolveDone = resolve })
  let settled = false
  const settle = (how: AttachEnd): void => {
    if (settled) return
    settled = true
    signal?.removeEventListener('abort', onAbort)
    stopInput()
    resolveDone(how)
  }

  // Input: the client's stream into the process's stdin pipe; its end closes the pipe (the process reads EOF).
  let inputBroken = false
  const onInput = (b: Buffer | string): void => {
    if (inputBroken || input === undefined) return
    if (!input.write(b)) { stdin?.pause(); input.once('drain', () => { if (!settled) stdin?.resume() }) }
  }
  const onInputEnd = (): void => { trace('exec: stdin ended'); input?.end() }
  // The process closed its stdin (or exited): the rest of the input has nowhere to go; output and the end still come.
  input?.on('error', () => { inputBroken = true })
  const stopInput = (): void => {
    splice?.stop()
    stdin?.removeListener('data', onInput)
    stdin?.removeListener('end', onInputEnd)
    stdin?.pause()
  }
  const follow = (s: Readable | undefined): void => {
    stdin = s
    if (stdin !== undefined && input !== undefined) {
      stdin.on('data', onInput)
      stdin.once('end', onInputEnd)
      stdin.resume()
    } else {
      input?.end()
    }
  }
  // A client connection that can be had as an fd is spliced into the pipe (util/splice.ts: no byte through a Buffer)
  // after what had been read of it; at its EOF, or any error, the stream takes the connection back for the rest (the
  // EOF itself, or input to drop once the process closed its stdin). After the session it is read and dropped, so
  // that the client's close is seen.
  const src = input !== undefined && pipes.stdinFd !== undefined && spliceAvailable() ? io.stdinFd?.() : undefined
  if (src === undefined) follow(io.stdin)
  else {
    const handBack = (): void => { trace(`exec: stdin splice handed back (settled ${settled})`); if (settled) src.release().resume(); else follow(src.release()) }
    const run = (): void => {
      if (settled || inputBroken) { handBack(); return }
      try {
        splice = startSplice(src.fd, pipes.stdinFd as number, (errno) => {
          splice = undefined
          if (errno === constants.errno.EPIPE) inputBroken = true
          handBack()
        })
      } catch { handBack() }
    }
    if (src.head.length > 0) (input as Socket).write(src.head, () => run())
    else run()
  }

  // The session's streams end when the process has exited and its output has been given: not at the outputs' EOF
  // alone, as a process may close its stdout and stderr and go on reading stdin (`sh -c 'exec >&- 2>&-; cat >f'`).
  let markExited!: () => void
  const exitSeen = new Promise<void>((resolve) => { markExited = resolve })
  const closed = Promise.all([...outs.map((o) => o.ended), exitSeen]).then(() => { input?.destroy() })
  void closed.then(() => settle('eof'))
  // As conmon does when its attach client goes away (without --leave-stdin-open): the process's stdin is closed.
  const onAbort = (): void => {
    for (const o of outs) o.drop()
    input?.destroy()
    settle('aborted')
  }
  if (signal?.aborted === true) onAbort()
  else signal?.addEventListener('abort', onAbort, { once: true })
  return { done, closed, exited: () => { markExited(); for (const o of outs) o.exited() } }
}
