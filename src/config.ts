// Where conex keeps its state and which OCI runtime it uses: global flags override the config file, which overrides
// the defaults. Nothing here touches the store; it only resolves paths and names.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { EngineError } from './errors'
import { detectCgroupMode, type CgroupMode } from './oci/cgroups'

export interface EngineConfig {
  /** Persistent state: the database, image layers, container upper dirs. */
  root: string
  /** Volatile state: mounts, bundles, attach sockets, exit files. */
  runroot: string
  /** Absolute path of the OCI runtime binary. */
  runtimePath: string
  /** Short name of the runtime (`runc`, `crun`). */
  runtimeName: string
  /** Absolute path of conmon. */
  conmonPath: string
  cgroupMode: CgroupMode
  /** Default detach keys, podman's syntax; '' disables detaching. */
  detachKeys: string
  /** Ended exec sessions are kept this many seconds for inspection, then pruned. */
  execRetentionSeconds: number
  /** At most this many ended exec sessions are kept per container. */
  execRetentionCount: number
  /** Exec sessions created but never started are removed after this many seconds; 0 keeps them (until their container stops). */
  execCreatedTimeoutSeconds: number
  /** Ended exec sessions stay at least this long, whatever execRetentionCount says. */
  execRetentionGraceSeconds: number
  /** The service aborts an image upload (import, load) when no body byte arrives for this many seconds; 0: never. */
  uploadIdleTimeoutSeconds: number
  /**
   * Attached exec sessions without a tty run with conmon's `-l passthrough`: the process's stdio are pipes to conex
   * (src/oci/conmon/exec-pipes.ts). false: through conmon's attach socket, as tty and detached sessions always are.
   */
  execPassthrough: boolean
  /** Path of the config file that was read, if any. */
  configFile?: string
}

export interface ConfigOverrides {
  root?: string
  runroot?: string
  runtime?: string
  config?: string
}

interface ConfigFile {
  root?: string
  runroot?: string
  runtime?: string
  conmon?: string
  detach_keys?: string
  exec_retention_seconds?: number
  exec_retention_count?: number
  exec_created_timeout_seconds?: number
  exec_retention_grace_seconds?: number
  upload_idle_timeout_seconds?: number
  exec_passthrough?: boolean
}

const DEFAULT_CONFIG_FILE = '/etc/conex/conex.json'
const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

// Finds an executable by name on a fixed search path (never through a shell).
export function findBinary (name: string): string | undefined {
  if (name.includes('/')) return existsSync(name) ? name : undefined
  for (const dir of SEARCH_PATH) {
    const p = join(dir, name)
    if (existsSync(p)) return p
  }
  return undefined
}

// Picks crun when the host allows it, runc otherwise: crun refuses cgroup v1 "hybrid" hosts.
export function pickRuntime (mode: CgroupMode, wanted?: string): { name: string, path: string } {
  if (wanted !== undefined && wanted !== '') {
    const path = findBinary(wanted)
    if (path === undefined) throw new EngineError('INVALID_ARGUMENT', `OCI runtime "${wanted}" not found`)
    return { name: path.split('/').pop() as string, path }
  }
  const order = mode === 'hybrid' ? ['runc'] : ['crun', 'runc']
  for (const name of order) {
    const path = findBinary(name)
    if (path !== undefined) return { name, path }
  }
  throw new EngineError('RUNTIME_ERROR', `no usable OCI runtime found (tried ${order.join(', ')}; cgroup mode ${mode})`)
}

function readConfigFile (path: string, required: boolean): ConfigFile {
  if (!existsSync(path)) {
    if (required) throw new EngineError('INVALID_ARGUMENT', `config file ${path} does not exist`)
    return {}
  }
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object')
    return parsed as ConfigFile
  } catch (err) {
    throw new EngineError('INVALID_ARGUMENT', `reading config file ${path}: ${(err as Error).message}`)
  }
}

// A duration in seconds from $CONEX_<KEY> (upper case), else the config file's key, else the default; fractions are
// allowed (tests use 0.5), negative or non-numeric values are refused.
function seconds (file: ConfigFile, key: 'exec_created_timeout_seconds' | 'upload_idle_timeout_seconds' | 'exec_retention_grace_seconds', dflt: number): number {
  const env = process.env[`CONEX_${key.toUpperCase()}`]
  const raw: unknown = env !== undefined && env !== '' ? Number(env) : file[key] ?? dflt
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 0) {
    throw new EngineError('INVALID_ARGUMENT', `${env !== undefined && env !== '' ? `CONEX_${key.toUpperCase()}` : key} must be a number of seconds >= 0, got ${JSON.stringify(env ?? file[key])}`)
  }
  return raw
}

// $CONEX_EXEC_PASSTHROUGH (1/true, 0/false), else the config file's exec_passthrough, else on.
function passthrough (file: ConfigFile): boolean {
  const env = process.env.CONEX_EXEC_PASSTHROUGH
  if (env === undefined || env === '') {
    if (file.exec_passthrough !== undefined && typeof file.exec_passthrough !== 'boolean') throw new EngineError('INVALID_ARGUMENT', `exec_passthrough must be true or false, got ${JSON.stringify(file.exec_passthrough)}`)
    return file.exec_passthrough ?? true
  }
  if (env === '1' || env === 'true') return true
  if (env === '0' || env === 'false') return false
  throw new EngineError('INVALID_ARGUMENT', `CONEX_EXEC_PASSTHROUGH must be 1, true, 0 or false, got ${JSON.stringify(env)}`)
}

// Resolves the engine configuration from flags, CONEX_* environment variables, the config file and defaults.
export function loadConfig (o: ConfigOverrides = {}): EngineConfig {
  const explicit = o.config ?? process.env.CONEX_CONFIG
  const file = readConfigFile(explicit ?? DEFAULT_CONFIG_FILE, explicit !== undefined)
  const cgroupMode = detectCgroupMode()
  const rt = pickRuntime(cgroupMode, o.runtime ?? process.env.CONEX_RUNTIME ?? file.runtime)
  const conmonPath = findBinary(file.conmon ?? 'conmon')
  if (conmonPath === undefined) throw new EngineError('RUNTIME_ERROR', 'conmon not found: install Debian\'s conmon package')
  return {
    root: o.root ?? process.env.CONEX_ROOT ?? file.root ?? '/var/lib/conex',
    runroot: o.runroot ?? process.env.CONEX_RUNROOT ?? file.runroot ?? '/run/conex',
    runtimePath: rt.path,
    runtimeName: rt.name,
    conmonPath,
    cgroupMode,
    detachKeys: file.detach_keys ?? 'ctrl-p,ctrl-q',
    execRetentionSeconds: file.exec_retention_seconds ?? 300,
    execRetentionCount: file.exec_retention_count ?? 100,
    execRetentionGraceSeconds: seconds(file, 'exec_retention_grace_seconds', 30),
    execCreatedTimeoutSeconds: seconds(file, 'exec_created_timeout_seconds', 600),
    uploadIdleTimeoutSeconds: seconds(file, 'upload_idle_timeout_seconds', 60),
    execPassthrough: passthrough(file),
    configFile: existsSync(explicit ?? DEFAULT_CONFIG_FILE) ? (explicit ?? DEFAULT_CONFIG_FILE) : undefined,
  }
}
