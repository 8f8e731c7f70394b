// The termios addon (native/termios.c): whether an fd is a terminal, and a terminal's raw mode and its restore.
import { loadAddon } from './addon'

export interface Termios {
  isatty: (fd: number) => boolean
  makeRaw: (fd: number) => Buffer
  restore: (fd: number, saved: Buffer) => void
}

let addon: Termios | undefined
export const termios = (): Termios => (addon ??= loadAddon<Termios>('termios'))

// isatty(3) for one fd, without Node's tty module (which loads net and stream: ~5 ms of a CLI start where nothing else
// needs them). A closed or invalid fd is not a terminal.
export function isTerminal (fd: number): boolean {
  return termios().isatty(fd)
}
