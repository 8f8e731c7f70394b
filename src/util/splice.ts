// Moves a client's stdin from its connection into a process's stdin pipe inside the kernel (splice(2), conex's
// splice addon: native/splice.c), so the API service neither reads it into Buffers nor writes it out again: 256 MiB
// through the API at ~1.3 GB/s here against ~0.5 with a read and a write per 64 KiB (docs/performance.md). Where the
// addon cannot load, spliceAvailable() is false and the stream path is used.
import { loadAddon } from './addon'

/** Why a splice ended: 0 at EOF on the source, ECANCELED after stop(), else splice(2)'s errno (os.constants.errno). */
export type SpliceDone = (errno: number, bytes: number) => void

interface Native {
  start: (srcFd: number, dstFd: number, cb: SpliceDone) => { stop: () => void }
}

let native: Native | null | undefined
function addon (): Native | null {
  if (native === undefined) {
    try { native = loadAddon<Native>('splice') } catch { native = null }
  }
  return native
}

export function spliceAvailable (): boolean { return addon() !== null }

/**
 * Splices from srcFd into dstFd (a pipe) until EOF, an error or stop(); `done` runs once, after the addon has let go
 * of both fds (it works on duplicates, so the caller's stay open and theirs to close).
 */
export function startSplice (srcFd: number, dstFd: number, done: SpliceDone): { stop: () => void } {
  const n = addon()
  if (n === null) throw new Error('conex\'s splice addon is not available')
  return n.start(srcFd, dstFd, done)
}
