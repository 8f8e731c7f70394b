// conmon's command line for containers and exec sessions (conmon's cli.c names; podman's sharedConmonArgs order).
export interface SharedConmonArgs {
  containerId: string
  /** conmon's --cuuid: the container id for containers, the session id for exec. */
  cuuid: string
  name: string
  runtimePath: string
  /** Global runtime flags (e.g. --root for runc's state dir), placed before the runtime verb. */
  runtimeArgs: string[]
  bundle: string
  pidFile: string
  exitDir: string
  persistDir?: string
  /** conmon log driver spec, e.g. `k8s-file:/path`, `none`, or `passthrough` (conmon's stdio is the process's). */
  logPath: string
  ociLog: string
  tty: boolean
  stdin: boolean
  /** --leave-stdin-open: a client disconnecting does not close the process's stdin (re-attachable tty sessions). */
  leaveStdinOpen?: boolean
  exitCommand?: string[]
  exitDelay?: number
  logLevel?: string
}

function shared (o: SharedConmonArgs): string[] {
  const a = [
    '--api-version', '1',
    '-c', o.containerId,
    '-u', o.cuuid,
    '-r', o.runtimePath,
    '-b', o.bundle,
    '-p', o.pidFile,
    '-n', o.name,
    '--exit-dir', o.exitDir,
    '--full-attach',
    '-l', o.logPath,
    '--log-level', o.logLevel ?? 'warning',
  ]
  if (o.persistDir !== undefined) a.push('--persist-dir', o.persistDir)
  for (const r of o.runtimeArgs) a.push('--runtime-arg', r)
  // runc writes its errors as JSON to this log instead of stderr; we read it when the sync pipe carries no message.
  a.push('--runtime-arg', '--log-format=json', '--runtime-arg', '--log', `--runtime-arg=${o.ociLog}`)
  if (o.tty) a.push('-t')
  // With passthrough the process has our stdin pipe itself: conmon's -i would only make a pipe nobody writes to.
  const conmonStdin = o.stdin && o.logPath !== 'passthrough'
  if (conmonStdin) a.push('-i')
  if (conmonStdin && o.leaveStdinOpen === true) a.push('--leave-stdin-open')
  if (o.exitCommand !== undefined && o.exitCommand.length > 0) {
    a.push('--exit-command', o.exitCommand[0])
    for (const x of o.exitCommand.slice(1)) a.push('--exit-command-arg', x)
    if (o.exitDelay !== undefined && o.exitDelay > 0) a.push('--exit-delay', String(o.exitDelay))
  }
  return a
}

export interface ContainerConmonArgs extends SharedConmonArgs {
  conmonPidFile: string
  socketDir: string
}

// Arguments for a container's conmon: it runs `runtime create`, and we `runtime start` afterwards.
export function containerConmonArgs (o: ContainerConmonArgs): string[] {
  return [...shared(o), '-P', o.conmonPidFile, '--socket-dir-path', o.socketDir]
}

export interface ExecConmonArgs extends SharedConmonArgs {
  processSpec: string
  preserveFds: number
  /** Seconds; conmon kills the process when they pass. 0: none. */
  timeout: number
  /** Where conmon writes the pid of its monitor process (the one that stays after the double fork). */
  conmonPidFile?: string
}

// Arguments for an exec session's conmon: --exec-attach makes it wait for a second start byte, sent once we have
// attached, so no output is lost. A passthrough session has no attach socket (conmon makes none): its output waits
// in our pipes, so conmon runs the runtime at the first byte.
export function execConmonArgs (o: ExecConmonArgs): string[] {
  const a = [...shared(o), '-e', ...(o.logPath === 'passthrough' ? [] : ['--exec-attach']), '--exec-process-spec', o.processSpec]
  if (o.preserveFds > 0) a.push('--runtime-opt', '--preserve-fds', '--runtime-opt', String(o.preserveFds))
  if (o.timeout > 0) a.push('-T', String(o.timeout))
  if (o.conmonPidFile !== undefined) a.push('-P', o.conmonPidFile)
  return a
}
