// The caller's terminal during an attached -t session: raw mode on, restored on every way out (normal end, error,
// signal), the initial size, and SIGWINCH forwarded as resizes.
import { isTerminal, termios } from '../util/termios'
import type { AttachStreams } from '../engine/types'
export interface TerminalGuard {
  /** The caller's window (rows, columns) now: Node updates it on SIGWINCH. Undefined without a tty. */
  readonly size: [number, number] | undefined
  onResize: (fn: (h: number, w: number) => void) => void
  restore: () => void
}

export function setupTerminal (o: { tty: boolean, stdin: boolean }): TerminalGuard {
  // process.stdout only with a tty: building the stream loads Node's tty or net module (3-6 ms of a CLI start).
  const stdout = o.tty ? process.stdout : undefined
  // Raw with -t whether or not stdin is forwarded (-i), as podman does: the container's pty already turned \n into
  // \r\n, so the caller's terminal must not do it again. podman's raw mode (golang.org/x/term MakeRaw), set by conex's
  // termios addon: Node's setRawMode would need process.stdin's stream (4-6 ms to build) and keeps output processing
  // on (ONLCR), which then took a `stty -onlcr` child process (~11 ms with child_process's loading). Node itself puts
  // back the terminal's start-up settings if conex dies of SIGINT or SIGTERM.
  let saved: Buffer | undefined
  if (o.tty && isTerminal(0)) saved = termios().makeRaw(0)
  let winch: (() => void) | undefined
  const restore = (): void => {
    if (saved !== undefined) { try { termios().restore(0, saved) } catch { /* the terminal is gone */ } saved = undefined }
    if (winch !== undefined) process.removeListener('SIGWINCH', winch)
    process.removeListener('exit', restore)
  }
  process.once('exit', restore)
  return {
    get size (): [number, number] | undefined { return stdout?.isTTY === true ? [stdout.rows, stdout.columns] : undefined },
    onResize: (fn) => {
      if (stdout?.isTTY !== true) return
      winch = () => fn(stdout.rows, stdout.columns)
      process.on('SIGWINCH', winch)
    },
    restore,
  }
}

/**
 * Runs an attached session on the caller's terminal: setupTerminal, the caller's stdio as the session's streams (stdin
 * only when forwarded), and on every way out the terminal restored and stdin paused (so the process can exit).
 * Returns the session's exit status: its exit code, 0 when the caller detached.
 */
export async function withTerminal (o: { tty: boolean, stdin: boolean }, fn: (term: TerminalGuard, streams: AttachStreams) => Promise<{ exitCode?: number, detached: boolean }>): Promise<number> {
  const term = setupTerminal(o)
  // Each stream is made when the engine first reads it: process.stdin, once made, may read ahead of the process, and
  // a session that takes the caller's fds themselves (cli/hand-over.ts) never reads any (building one costs 3-6 ms).
  let stdinMade = false
  const streams: AttachStreams = {
    get stdin () { if (!o.stdin) return undefined; stdinMade = true; return process.stdin },
    get stdout () { return process.stdout },
    get stderr () { return process.stderr },
  }
  try {
    const r = await fn(term, streams)
    return r.detached ? 0 : r.exitCode ?? 0
  } finally {
    term.restore()
    if (stdinMade) process.stdin.pause()
  }
}
