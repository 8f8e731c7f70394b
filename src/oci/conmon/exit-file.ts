// Waits for the exit file conmon writes after the process ends (`<exit-dir>/<container id>`, decimal, no newline).
// conmon closes attach clients *before* writing it, so attach EOF does not mean the file exists yet: watch the
// directory with inotify (fs.watch) instead of polling, with a slow poll as a safety net.
import { readFileSync, watch, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'

// Reads the exit file; undefined while it does not exist or is still empty.
export function readExitFile (path: string): number | undefined {
  let text: string
  try { text = readFileSync(path, 'utf8') } catch { return undefined }
  if (text.trim() === '') return undefined
  const n = Number(text.trim())
  return Number.isInteger(n) ? n : undefined
}

export interface WaitExitOptions { timeoutMs?: number, signal?: AbortSignal, isAlive?: () => boolean }

// Resolves with the exit code; undefined on timeout, abort, or when `isAlive` says the writer is gone without a file.
export function waitExitFile (path: string, o: WaitExitOptions = {}): Promise<number | undefined> {
  const now = readExitFile(path)
  if (now !== undefined) return Promise.resolve(now)
  return new Promise((resolve) => {
    let watcher: FSWatcher | undefined
    let timer: NodeJS.Timeout | undefined
    let poll: NodeJS.Timeout | undefined
    const finish = (v: number | undefined): void => {
      watcher?.close()
      if (timer !== undefined) clearTimeout(timer)
      if (poll !== undefined) clearInterval(poll)
      o.signal?.removeEventListener('abort', onAbort)
      resolve(v)
    }
    const check = (): void => {
      const v = readExitFile(path)
      if (v !== undefined) finish(v)
      else if (o.isAlive !== undefined && !o.isAlive()) {
        // The writer died: one last look, as the file may have landed meanwhile.
        finish(readExitFile(path))
      }
    }
    const onAbort = (): void => finish(undefined)
    try {
      watcher = watch(dirname(path), (_event, name) => { if (name === null || name === basename(path)) check() })
      watcher.on('error', () => { /* the directory went away; the poll decides */ })
    } catch { /* no directory yet: the poll covers it */ }
    poll = setInterval(check, 250)
    if (o.timeoutMs !== undefined) timer = setTimeout(() => finish(undefined), o.timeoutMs)
    o.signal?.addEventListener('abort', onAbort, { once: true })
    check()
  })
}
