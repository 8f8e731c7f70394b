// Removes a small directory tree (an exec bundle: a dozen files, a socket, FIFOs, one subdirectory) with plain
// readdir/unlink/rmdir. fs.rmSync's recursive mode runs Node's rimraf port, whose first use in a process compiles it
// and stats every entry: 3.3-4 ms for an exec bundle in a fresh CLI process, against 1.4 ms for this.
// A missing directory is not an error (as rmSync's force).
import { readdirSync, rmdirSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'

export function removeTree (dir: string): void {
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) removeTree(p)
    else {
      try { unlinkSync(p) } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err }
    }
  }
  try { rmdirSync(dir) } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err }
}
