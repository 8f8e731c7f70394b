// Progress for long work (import, load) on a terminal: one line rewritten in place on stderr; nothing when stderr is
// not a terminal or with --quiet, so scripts see only the result.
import type { CliContext } from './command'
import { humanSize } from './human'

export function progressReporter (_ctx: CliContext, verb: string, total: number | undefined, quiet: boolean): { update: (bytes: number) => void, done: () => void } {
  const tty = process.stderr.isTTY === true && !quiet
  let last = 0
  let shown = false
  const draw = (bytes: number): void => {
    const pct = total !== undefined && total > 0 ? ` ${Math.min(100, Math.floor(bytes * 100 / total))}%` : ''
    process.stderr.write(`\r${verb} ${humanSize(bytes)}${total !== undefined ? ' / ' + humanSize(total) : ''}${pct}\x1b[K`)
    shown = true
  }
  return {
    update: (bytes) => {
      if (!tty) return
      const now = Date.now()
      if (now - last < 100) return
      last = now
      draw(bytes)
    },
    done: () => { if (shown) process.stderr.write('\n') },
  }
}
