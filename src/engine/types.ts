// The engine's public data shapes and the Engine interface that cli/ and api/ call. Only api/ knows Docker's JSON
// shapes and only cli/ knows flags; both map to these types once.
import type { Readable, Writable } from 'node:stream'

export type ContainerState = 'created' | 'running' | 'paused' | 'exited' | 'removing'
export type ExecState = 'created' | 'running' | 'stopped'

export interface Mount { source: string, destination: string, readonly: boolean }
export interface Ulimit { name: string, soft: number, hard: number }

/** What `run`/`create` asks for; image defaults are merged in by the engine. */
export interface ContainerCreateOptions {
  image: string
  name?: string
  /** Replaces the image Cmd when given (may be empty to keep the image's). */
  command?: string[]
  /** Replaces the image Entrypoint; [] clears it. */
  entrypoint?: string[]
  env?: string[]
  user?: string
  workdir?: string
  tty?: boolean
  /** Keep stdin open (-i). */
  stdin?: boolean
  mounts?: Mount[]
  groupAdd?: string[]
  umask?: string
  stopTimeout?: number
  ulimits?: Ulimit[]
  network?: 'none' | 'host'
  autoRemove?: boolean
  hostname?: string
  labels?: Record<string, string>
  capAdd?: string[]
  capDrop?: string[]
  privileged?: boolean
  stopSignal?: string
  /** --security-opt no-new-privileges: processes cannot gain privileges (setuid, file caps). */
  noNewPrivileges?: boolean
  /** 'default' (conex's profile) or 'unconfined'. */
  seccomp?: 'default' | 'unconfined'
}

/** The resolved configuration a container runs with (persisted). */
export interface ContainerConfig {
  command: string[]
  entrypoint: string[]
  env: string[]
  user: string
  workdir: string
  tty: boolean
  stdin: boolean
  mounts: Mount[]
  groupAdd: string[]
  umask: string
  stopTimeout: number
  ulimits: Ulimit[]
  network: 'none' | 'host'
  autoRemove: boolean
  hostname: string
  labels: Record<string, string>
  capAdd: string[]
  capDrop: string[]
  privileged: boolean
  stopSignal: string
  /** Absent in records written before the field existed: false. */
  noNewPrivileges?: boolean
  /** Absent: 'default'. */
  seccomp?: 'default' | 'unconfined'
}

export interface ContainerRecord {
  id: string
  name: string
  imageId: string
  imageName: string
  config: ContainerConfig
  state: ContainerState
  pid: number
  pidStart: string
  conmonPid: number
  exitCode: number
  oomKilled: boolean
  createdAt: number
  startedAt: number
  finishedAt: number
  restarts: number
}

export interface ExecCreateOptions {
  command: string[]
  env?: string[]
  user?: string
  workdir?: string
  tty?: boolean
  attachStdin?: boolean
  attachStdout?: boolean
  attachStderr?: boolean
  privileged?: boolean
  /** undefined: the engine default (ctrl-p,ctrl-q); '': detaching disabled. */
  detachKeys?: string
  /** Pass the caller's fds 3..3+N-1 to the process (CLI only). */
  preserveFds?: number
  /** Kill the session after this many seconds; the exit code is then 124. 0: no limit. */
  timeout?: number
  /** Initial terminal size [height, width]. */
  consoleSize?: [number, number]
  /** Set TERM=xterm when tty and TERM is not given (podman's CLI rule). API callers pass false unless Tty. */
  addTerm?: boolean
  /** Who asked, for the audit trail (`uid=0 pid=123` from SO_PEERCRED); default: the engine's own requester. */
  requester?: string
}

export interface ExecConfig {
  command: string[]
  env: string[]
  user: string
  workdir: string
  tty: boolean
  attachStdin: boolean
  attachStdout: boolean
  attachStderr: boolean
  privileged: boolean
  detachKeys: string
  preserveFds: number
  timeout: number
  consoleSize?: [number, number]
}

export interface ExecSessionRecord {
  id: string
  containerId: string
  config: ExecConfig
  state: ExecState
  pid: number
  pidStart: string
  conmonPid: number
  /** null until the session has stopped. */
  exitCode: number | null
  createdAt: number
  startedAt: number
  endedAt: number
}

/** Streams an attached exec or container talks to. With tty, stderr is unused (the pty merges them). */
export interface AttachStreams {
  stdin?: Readable
  /** The client's stdin as a raw fd (the API's hijacked connection), for passthrough pipes to splice from. */
  stdinFd?: () => import('../oci/conmon/attach-socket').StdinFd | undefined
  stdout?: Writable
  stderr?: Writable
  /** Called once the process is running (after the pid is known); API uses it to send the hijack header earlier. */
  onStarted?: (pid: number) => void
  /**
   * Called when the output is complete and the exit code known, right before the exit is recorded and in the same
   * turn: the API ends the client's stream here. A client that inspects on seeing that end is still answered after
   * the record (the service runs JavaScript on one thread), and the record's commit is off its wait.
   */
  onEnded?: () => void
}

/** One stream of a CLI's exec: this fd of the caller's, or 'copy' (a pipe that conex copies to or from the caller's). */
export type ExecStdio = number | 'copy'

/** A CLI's exec stdio (ExecStartOptions.fds); stdin only when the process reads it (-i). */
export interface ExecStdioFds { stdin?: ExecStdio, stdout: ExecStdio, stderr: ExecStdio }

export interface ExecStartOptions {
  streams?: AttachStreams
  /**
   * The caller's own fds (the CLI's pipes and files; stdin only with -i) for the process itself, when the session
   * streams without a tty: conmon hands them over (`-l passthrough`) and nothing of them is copied. A stream given as
   * 'copy' becomes a pipe between the process and the matching one of `streams` (a terminal, a socket); only those
   * streams are touched. Honoured by a one-shot (CLI) engine only; otherwise, or with recordPath, `streams` are used.
   */
  fds?: ExecStdioFds
  detach?: boolean
  /** Terminal size to apply before the process starts. */
  consoleSize?: [number, number]
  /** Cancels the attach (not the process): the session goes on running. */
  signal?: AbortSignal
  /** Override of the session's detach keys for this attach. */
  detachKeys?: string
  /** Record output as asciicast v2 to this path. */
  recordPath?: string
  /** Who asked (audit); default: the engine's own requester. */
  requester?: string
}

export interface ExecResult {
  /** The process's exit code, 124 on --timeout, 128+n for signals; undefined when the caller detached. */
  exitCode?: number
  detached: boolean
}

export interface ContainerStartOptions {
  /** Attach these streams before starting (run without -d, start -a); resolves when the container exits. */
  streams?: AttachStreams
  detachKeys?: string
  consoleSize?: [number, number]
  signal?: AbortSignal
}

export interface ContainerStartResult { exitCode?: number, detached: boolean }

export interface RemoveOptions { force?: boolean, timeout?: number, ignore?: boolean }

export interface LogsOptions {
  follow?: boolean
  stdout?: boolean
  stderr?: boolean
  timestamps?: boolean
  tail?: number
  /** Seconds since the epoch. */
  since?: number
  until?: number
  signal?: AbortSignal
}

export interface LogLine { stream: 'stdout' | 'stderr', time: string, data: Buffer }

export interface ImageImportOptions { tag?: string, changes?: string[], message?: string, onProgress?: (bytes: number) => void }

export interface ImageSummary { id: string, names: string[], size: number, createdAt: number, config: import('../store/images').ImageConfig, layers: string[] }

export interface EngineEvent {
  time: number
  timeNano: bigint
  type: 'container' | 'exec' | 'image'
  action: string
  id: string
  attributes: Record<string, string>
}

export interface EventsOptions { since?: bigint, until?: bigint, follow?: boolean, signal?: AbortSignal }

export interface HostInfo {
  hostname: string
  kernel: string
  os: string
  arch: string
  cpus: number
  memTotal: number
  cgroupMode: string
  runtimeName: string
  runtimePath: string
  runtimeVersion: string
  conmonPath: string
  conmonVersion: string
  root: string
  runroot: string
  containers: { total: number, running: number, paused: number, stopped: number }
  images: number
  version: string
}

/**
 * What cli/ and api/ may ask of the engine. Implementations own locking, state and cleanup; callers only map their
 * own input shapes to these options and the results back to theirs.
 */
export interface Engine {
  createContainer (opts: ContainerCreateOptions): Promise<ContainerRecord>
  startContainer (ref: string, opts?: ContainerStartOptions): Promise<ContainerStartResult>
  stopContainer (ref: string, timeout?: number): Promise<void>
  killContainer (ref: string, signal?: string): Promise<void>
  restartContainer (ref: string, timeout?: number): Promise<void>
  pauseContainer (ref: string): Promise<void>
  unpauseContainer (ref: string): Promise<void>
  removeContainer (ref: string, opts?: RemoveOptions): Promise<string | undefined>
  listContainers (opts?: { all?: boolean }): Promise<ContainerRecord[]>
  getContainer (ref: string): Promise<ContainerRecord>
  waitContainer (ref: string, opts?: { condition?: 'stopped' | 'running' | 'started' | 'removed', after?: number, signal?: AbortSignal }): Promise<number>
  attachContainer (ref: string, streams: AttachStreams, opts?: { detachKeys?: string, signal?: AbortSignal }): Promise<ContainerStartResult>
  resizeContainer (ref: string, height: number, width: number): Promise<void>
  containerLogs (ref: string, opts: LogsOptions, onLine: (l: LogLine) => void): Promise<void>
  topContainer (ref: string): Promise<{ titles: string[], processes: string[][] }>

  createExec (ref: string, opts: ExecCreateOptions): Promise<ExecSessionRecord>
  startExec (id: string, opts?: ExecStartOptions): Promise<ExecResult>
  /** Create + start in one call (the CLI path). */
  exec (ref: string, opts: ExecCreateOptions, start: ExecStartOptions): Promise<ExecResult & { id: string }>
  /** Re-attach to a running session; several clients may attach at once. */
  attachExec (id: string, streams: AttachStreams, opts?: { detachKeys?: string, signal?: AbortSignal }): Promise<ExecResult>
  resizeExec (id: string, height: number, width: number): Promise<void>
  getExec (id: string): Promise<ExecSessionRecord>
  stopExec (id: string, timeout?: number): Promise<void>
  removeExec (id: string, force?: boolean): Promise<void>
  listExecs (containerRef: string): Promise<ExecSessionRecord[]>

  listImages (): Promise<ImageSummary[]>
  getImage (ref: string): Promise<ImageSummary>
  tagImage (ref: string, name: string): Promise<void>
  removeImage (ref: string, force?: boolean): Promise<string[]>
  importImage (tarball: import('node:stream').Readable, opts: ImageImportOptions): Promise<ImageSummary>
  loadImages (archive: import('node:stream').Readable, onProgress?: (bytes: number) => void): Promise<string[]>

  events (opts: EventsOptions, onEvent: (e: EngineEvent) => void): Promise<void>
  info (): Promise<HostInfo>
  close (): void
}
