// Which of the CLI's own stdio an attached `conex exec` without a tty can give the process itself, as a shell gives
// its own to a command: pipes, regular files and devices that are not terminals. Then conmon runs the process with
// them (`-l passthrough`) and no byte goes through conex: `conex exec -i db psql < dump.sql` reads the file, and a
// reader that goes away (`| head`) is the process's own SIGPIPE, as outside a container.
//
// Not a terminal: the process would see isatty() where podman and docker give it a pipe (ls in columns, a pager, an
// interactive shell). Not a socket (what Node's child_process and systemd give): opening /dev/stdout on a socket
// fails (ENXIO), and scripts write `> /dev/stderr`. With any of those, every stream goes through conmon's attach
// socket, as before.
import { fstatSync } from 'node:fs'
import { isatty } from 'node:tty'

export interface HandOverFds {
  /** Only when the process reads stdin (-i); without -i it gets /dev/null. */
  stdin?: number
  stdout: number
  stderr: number
}

// Whether one fd can be the process's own.
export function canHandOver (fd: number): boolean {
  let st
  try { st = fstatSync(fd) } catch { return false }
  if (st.isFIFO() || st.isFile() || st.isBlockDevice()) return true
  return st.isCharacterDevice() && !isatty(fd)
}

// fds 0 (with -i), 1 and 2 when each can be handed over; undefined when one cannot (then nothing is).
export function handOverFds (o: { stdin: boolean }, fds: [number, number, number] = [0, 1, 2]): HandOverFds | undefined {
  const [i, out, err] = fds
  if ((o.stdin && !canHandOver(i)) || !canHandOver(out) || !canHandOver(err)) return undefined
  return { ...(o.stdin ? { stdin: i } : {}), stdout: out, stderr: err }
}
