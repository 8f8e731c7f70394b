// Which of the CLI's own stdio an attached `conex exec` without a tty can give the process itself, as a shell gives
// its own to a command: pipes, regular files and devices that are not terminals. Then conmon runs the process with
// them (`-l passthrough`) and no byte of them goes through conex: `conex exec -i db psql < dump.sql` reads the file,
// and a reader that goes away (`| head`) is the process's own SIGPIPE, as outside a container.
//
// Not a terminal: the process would see isatty() where podman and docker give it a pipe (ls in columns, a pager, an
// interactive shell), and a terminal's fd in a container can type into the caller's shell (TIOCSTI). Not a socket
// (what Node's child_process and systemd give): opening /dev/stdout on a socket fails (ENXIO), and scripts write
// `> /dev/stderr`. Such a stream is copied instead: the process gets a pipe whose other end conex reads (or, for
// stdin, writes), so `conex exec c make | grep error` typed at a terminal hands the pipe to grep over and copies
// only stderr. When none of the three can be handed over, every stream goes through conmon's attach socket.
import { fstatSync } from 'node:fs'
import { isTerminal } from '../util/termios'
import type { ExecStdio, ExecStdioFds } from '../engine/types'

// Whether one fd can be the process's own.
export function canHandOver (fd: number): boolean {
  let st
  try { st = fstatSync(fd) } catch { return false }
  if (st.isFIFO() || st.isFile() || st.isBlockDevice()) return true
  return st.isCharacterDevice() && !isTerminal(fd)
}

// fds 0 (with -i), 1 and 2 each handed over when it can be, copied when not; undefined when none can be.
export function handOverFds (o: { stdin: boolean }, fds: [number, number, number] = [0, 1, 2]): ExecStdioFds | undefined {
  const [i, out, err] = fds
  const one = (fd: number): ExecStdio => canHandOver(fd) ? fd : 'copy'
  const h: ExecStdioFds = { ...(o.stdin ? { stdin: one(i) } : {}), stdout: one(out), stderr: one(err) }
  return [h.stdin, h.stdout, h.stderr].some((s) => typeof s === 'number') ? h : undefined
}
