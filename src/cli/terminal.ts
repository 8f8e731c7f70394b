// The caller's terminal during an attached -t session: raw mode on, restored on every way out (normal end, error,
// signal), the initial size, and SIGWINCH forwarded as resizes.
import { spawnSync } from 'node:child_process'
import { isatty } from 'node:tty'
import type { AttachStreams } from '../engine/types'
export interface TerminalGuard { size?: [number, number], onResize: (fn: (h: number, w: number) => void) => void, restore: () => void, /** the caller's terminal was put in raw mode */ raw: boolean }

export function setupTerminal (o: { tty: boolean, stdin: boolean }): TerminalGuard {
  const stdout = process.stdout
  const size: [number, number] | undefined = o.tty && stdout.isTTY ? [stdout.rows, stdout.columns] : undefined
  let raw = false
  // Raw with -t whether or not stdin is forwarded (-i), as podman does: the container's pty already turned \n into
  // \r\n, so the caller's terminal must not do it again. process.stdin is only touched then: its getter builds a
  // stream for fd 0 (2-5 ms of `conex exec c true`, which never reads it).
  const stdin = o.tty && isatty(0) ? process.stdin : undefined
  if (stdin !== undefined) {
    stdin.setRawMode(true)
    // libuv's raw mode keeps output post-processing (ONLCR), so the container's \r\n would arrive as \r\r\n;
    // podman and docker use a fully raw terminal. setRawMode(false) restores the saved settings, onlcr included.
    spawnSync('stty', ['-onlcr'], { stdio: ['inherit', 'ignore', 'ignore'] })
    raw = true
  }
  let winch: (() => void) | undefined
  const restore = (): void => {
    if (raw) { try { stdin?.setRawMode(false) } catch { /* stdin gone */ } raw = false }
    if (winch !== undefined) process.removeListener('SIGWINCH', winch)
    process.removeListener('exit', restore)
  }
  process.once('exit', restore)
  return {
    size,
    raw,
    onResize: (fn) => {
      if (!o.tty || !stdout.isTTY) return
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
  try {
    const r = await fn(term, { stdin: o.stdin ? process.stdin : undefined, stdout: process.stdout, stderr: process.stderr })
    return r.detached ? 0 : r.exitCode ?? 0
  } finally {
    term.restore()
    if (o.stdin || term.raw) process.stdin.pause()
  }
}
