// The API service's per-exec file work as one job each in libuv's thread pool (native/fsbatch.c): removing a
// directory tree (also synchronously, for the CLI) and writing one string into several files. Through fs/promises
// each file operation was a thread-pool round trip with its own request objects and promise on the event loop.
import { getSystemErrorName } from 'node:util'
import { loadAddon } from './addon'

interface Native {
  removeTree: (path: string, cb: (errno: number) => void) => void
  removeTreeSync: (path: string) => number
  writeFiles: (paths: string[], data: string, cb: (errnos: number[]) => void) => void
}
let native: Native | undefined
const addon = (): Native => (native ??= loadAddon<Native>('fsbatch'))

function errnoError (errno: number, what: string, path: string): NodeJS.ErrnoException {
  const code = getSystemErrorName(-errno)
  return Object.assign(new Error(`${what} ${path}: ${code}`), { errno: -errno, code, path })
}

/** Removes `dir` and everything below it (symlinks are removed, never followed); a missing `dir` is no error. */
export function removeTreeAsync (dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    addon().removeTree(dir, (errno) => { if (errno === 0) resolve(); else reject(errnoError(errno, 'remove', dir)) })
  })
}

/** The same on this thread: for a process with nothing else to do meanwhile (the CLI). */
export function removeTreeSync (dir: string): void {
  const errno = addon().removeTreeSync(dir)
  if (errno !== 0) throw errnoError(errno, 'remove', dir)
}

/** Writes `data` into each existing file (open, write, close; in order); per file undefined or its error. */
export function writeEach (paths: string[], data: string): Promise<Array<NodeJS.ErrnoException | undefined>> {
  return new Promise((resolve) => {
    addon().writeFiles(paths, data, (errnos) => { resolve(errnos.map((e, i) => e === 0 ? undefined : errnoError(e, 'write', paths[i]))) })
  })
}
