// conmon's control FIFO (`<bundle>/ctl`): lines "TYPE HEIGHT WIDTH\n"; type 1 resizes the pty, 2 reopens logs.
// conmon relays resizes through its winsz FIFO and applies them once the pty exists, so a resize written before the
// process starts is not lost (podman #3903).
import { openSync, writeSync, closeSync, constants } from 'node:fs'
import { invalid } from '../../errors'

// conmon ≥ b2e434f rejects sizes outside 0..1000 silently; refuse them here with a message instead.
export const MAX_TTY_DIM = 1000

export function formatResize (height: number, width: number): string {
  for (const [name, v] of [['height', height], ['width', width]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > MAX_TTY_DIM) throw invalid(`terminal ${name} must be an integer from 0 to ${MAX_TTY_DIM}, got ${String(v)}`)
  }
  return `1 ${height} ${width}\n`
}

// Writes a resize to the FIFO without blocking: ENXIO (no reader yet) is retried a few times, then reported.
export async function writeResize (ctlPath: string, height: number, width: number): Promise<void> {
  const line = formatResize(height, width)
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(ctlPath, constants.O_WRONLY | constants.O_NONBLOCK)
      try { writeSync(fd, line) } finally { closeSync(fd) }
      return
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if ((code === 'ENXIO' || code === 'EAGAIN' || code === 'EINTR') && attempt < 50) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        continue
      }
      throw err
    }
  }
}
