// `conex exec`: podman's exec flags → ExecCreateOptions → engine.createExec + startExec with the caller's stdio.
// The exit status is the command's (126/127 when it cannot run, 124 on --timeout, 128+n on a signal); engine
// errors are 125. Subcommands: `exec attach` (re-attach to a running session) and `exec inspect`.
import { readFileSync, readlinkSync } from 'node:fs'
import type { Command, CliContext } from '../command'
import { bool, int, list, str } from '../args'
import { collectEnv } from '../env'
import { withTerminal } from '../terminal'
import { handOverFds } from '../hand-over'
import { invalid } from '../../errors'
import type { ExecSessionRecord } from '../../engine/types'
import { toExecInspect } from '../inspect-shape'

// Reads a container id from --cidfile (first line).
function readCidFile (path: string): string {
  let text: string
  try { text = readFileSync(path, 'utf8') } catch { throw invalid(`reading CIDFile: open ${path}: no such file or directory`) }
  const id = text.split('\n')[0].trim()
  if (id === '') throw invalid(`reading CIDFile: ${path} is empty`)
  return id
}

// The fds our caller passed are 3 up to the first one node opened for itself: node takes the lowest free fds at
// startup, its event loop's epoll fd first, so /proc/self/fd/3 exists even when the caller passed nothing (and
// --preserve-fds would hand node's own epoll fd to the container).
function callerFdsEnd (): number {
  for (let fd = 3; ; fd++) {
    let target: string
    try { target = readlinkSync(`/proc/self/fd/${fd}`) } catch { return fd }
    if (target === 'anon_inode:[eventpoll]') return fd
  }
}

function checkPreserveFds (n: number): void {
  if (n === 0) return
  const end = callerFdsEnd()
  for (let fd = 3; fd < 3 + n; fd++) {
    if (fd >= end) throw invalid(`file descriptor ${fd} is not available - the preserve-fds option requires that all file descriptors must be passed`)
  }
}

export const execAttach: Command = {
  name: 'attach',
  usage: 'conex exec attach [options] SESSION',
  summary: 'Attach to a running exec session (after detaching, or from a second terminal)',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'no-stdin', type: 'bool', help: 'Watch only: do not forward STDIN' },
    { name: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching' },
  ],
  run: async (ctx, p) => {
    const e = ctx.engine()
    const s = await e.getExec(p.args[0])
    const stdin = !bool(p.flags, 'no-stdin') && s.config.attachStdin
    return withTerminal({ tty: s.config.tty, stdin }, async (term, streams) => {
      // The session's pty takes the attaching terminal's size (as `conex attach` does a container's), then its resizes.
      if (s.config.tty && term.size !== undefined) await e.resizeExec(s.id, term.size[0], term.size[1]).catch(() => undefined)
      term.onResize((h, w) => { void e.resizeExec(s.id, h, w).catch(() => undefined) })
      return e.attachExec(s.id, streams, { detachKeys: str(p.flags, 'detach-keys') })
    })
  },
}

export const execInspect: Command = {
  name: 'inspect',
  usage: 'conex exec inspect [options] SESSION [SESSION...]',
  summary: 'Display the state of exec sessions (Docker\'s ExecInspect shape)',
  minArgs: 1,
  flags: [{ name: 'format', short: 'f', type: 'string', help: 'Format the output using the given Go template' }],
  run: async (ctx, p) => {
    const rows: ExecSessionRecord[] = []
    for (const id of p.args) rows.push(await ctx.engine().getExec(id))
    const items = rows.map(toExecInspect)
    const fmt = str(p.flags, 'format')
    if (fmt !== undefined && fmt !== 'json') {
      const { formatList, unescapeFormat } = await import('../format/format-output')
      ctx.out(formatList(unescapeFormat(fmt), items))
    } else ctx.out(JSON.stringify(items, null, 4) + '\n')
    return 0
  },
}

export const exec: Command = {
  name: 'exec',
  usage: 'conex exec [options] CONTAINER COMMAND [ARG...]',
  summary: 'Run a process in a running container',
  description: 'Run a process in a running container.\n\nArguments after CONTAINER belong to the command. Exit status: the command\'s own; 124 when --timeout\nkilled it; 125 for conex errors; 126 when the command cannot be invoked; 127 when it is not found.\n\nWithout -t, each of stdout, stderr (and stdin with -i) that is a pipe or a file is given to the process\nitself, as from a shell: nothing of it is copied or read ahead, and a reader that goes away is the\nprocess\'s SIGPIPE. A terminal or a socket is copied through a pipe; with only those, through conmon.',
  examples: ['conex exec web ls /', 'conex exec -it web sh', 'conex exec -d web sleep 60', 'echo hi | conex exec -i web cat', 'conex exec --timeout 5 web sleep 60'],
  interspersed: false,
  flags: [
    { name: 'detach', short: 'd', type: 'bool', help: 'Run the exec session in detached mode (backgrounded) and print its ID' },
    { name: 'detach-keys', type: 'string', help: 'Select the key sequence for detaching; "" disables detaching (default "ctrl-p,ctrl-q")' },
    { name: 'env', short: 'e', type: 'strings', help: 'Set environment variables (K=V, K from the host, PREFIX*)', arg: 'stringArray' },
    { name: 'env-file', type: 'strings', help: 'Read in a file of environment variables', arg: 'stringArray' },
    { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
    { name: 'latest', short: 'l', type: 'bool', help: 'Act on the latest container conex is aware of' },
    { name: 'cidfile', type: 'string', help: 'Read the container ID from the file' },
    { name: 'preserve-fds', type: 'int', help: 'Pass N additional file descriptors to the process', arg: 'uint', default: 0 },
    { name: 'privileged', type: 'bool', help: 'Give the process extended Linux capabilities' },
    { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY. The default is false' },
    { name: 'user', short: 'u', type: 'string', help: 'Sets the username or UID used and optionally the groupname or GID for the specified command' },
    { name: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container' },
    { name: 'timeout', type: 'int', help: 'Kill the command after this many seconds; exec then exits 124', arg: 'seconds', default: 0 },
    { name: 'record', type: 'string', help: 'Record the session\'s output as an asciicast v2 file', arg: 'file' },
  ],
  subcommands: [execAttach, execInspect],
  run: async (ctx, p) => runExec(ctx, p.flags, p.args),
}

async function runExec (ctx: CliContext, f: Parameters<typeof bool>[0], args: string[]): Promise<number> {
  const latest = bool(f, 'latest')
  const cidfile = str(f, 'cidfile')
  if (latest && cidfile !== undefined) throw invalid('--latest and --cidfile cannot be used together')
  let ref: string
  let command: string[]
  if (latest) { ref = ''; command = args } else if (cidfile !== undefined) { ref = readCidFile(cidfile); command = args } else {
    if (args.length === 0) throw invalid('"conex exec" requires at least 2 arguments (see \'conex exec --help\')')
    ref = args[0]
    command = args.slice(1)
  }
  if (command.length === 0) throw invalid('must provide a non-empty command to start an exec session')
  const detach = bool(f, 'detach')
  const tty = bool(f, 'tty')
  const interactive = bool(f, 'interactive')
  const preserveFds = int(f, 'preserve-fds') ?? 0
  if (preserveFds < 0) throw invalid('--preserve-fds must be a non-negative integer')
  checkPreserveFds(preserveFds)
  const timeout = int(f, 'timeout') ?? 0
  if (timeout < 0) throw invalid(`invalid --timeout ${timeout}: must be a non-negative number of seconds`)
  if (detach && str(f, 'record') !== undefined) throw invalid('--record needs an attached session: it cannot be used with --detach')
  const e = ctx.engine()
  const container = latest ? await e.latestContainer() : await e.getContainer(ref)
  // As the docker CLI: -it with piped stdin would hang, since a pty turns the pipe's EOF into nothing (a terminal
  // ends input with ctrl-d, and tty sessions keep stdin open for re-attach).
  if (tty && interactive && !detach && process.stdin.isTTY !== true) throw invalid('the input device is not a TTY: drop -t to pipe data into the command')
  return withTerminal({ tty: tty && !detach, stdin: interactive && !detach }, async (term, streams) => {
    const s = await e.createExec(container.id, {
      command,
      env: collectEnv(list(f, 'env'), list(f, 'env-file')),
      user: str(f, 'user'),
      workdir: str(f, 'workdir'),
      tty,
      attachStdin: interactive,
      attachStdout: !detach,
      attachStderr: !detach,
      privileged: bool(f, 'privileged'),
      detachKeys: str(f, 'detach-keys'),
      preserveFds,
      timeout,
      consoleSize: term.size,
      addTerm: tty || container.config.tty,
    })
    if (detach) {
      await e.startExec(s.id, { detach: true })
      ctx.out(s.id + '\n')
      return { detached: true }
    }
    term.onResize((h, w) => { void e.resizeExec(s.id, h, w).catch(() => undefined) })
    // Pipes and files go to the process itself (no tty, no recording); terminals and sockets beside them are copied,
    // and with none of those, everything goes through conmon.
    const fds = tty ? undefined : handOverFds({ stdin: interactive })
    return e.startExec(s.id, { streams, ...(fds !== undefined ? { fds } : {}), consoleSize: term.size, recordPath: str(f, 'record') })
  })
}
