// OCI runtime specs as podman makes them: the container's config.json and the process.json of an exec session.
// Pure functions of their inputs (plus the rootfs for user lookup and the engine's own capabilities), so they are
// tested without a runtime.
import { readFileSync } from 'node:fs'
import type { ContainerConfig, ExecConfig } from '../engine/types'
import { resolveUser, type ResolvedUser } from './user'
import { specRlimits } from './rlimits'

// podman 4's default capability set.
export const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETFCAP',
  'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT',
]

// Every capability this kernel knows (CAP_LAST_CAP 40 on 5.9+); --privileged gets them all.
export const ALL_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
]

const MASKED = ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/fs/selinux', '/sys/dev/block']
const READONLY = ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

const normCap = (c: string): string => {
  const u = c.toUpperCase()
  return u.startsWith('CAP_') ? u : 'CAP_' + u
}

// The capabilities in a CapBnd mask of /proc/<pid>/status (bit n is capability n, ALL_CAPS's order).
export function capsFromStatus (status: string): string[] {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)
  if (m === null) return [...ALL_CAPS]
  const mask = BigInt('0x' + m[1])
  return ALL_CAPS.filter((_, bit) => ((mask >> BigInt(bit)) & 1n) === 1n)
}

let ownBounding: string[] | undefined
// What this engine may hand on: its own bounding set. "All" means these, as podman's privileged containers get
// capabilities.BoundingSet(); an engine in a sandbox may lack some (CAP_SYS_RESOURCE), and asking runc for one it
// does not hold fails the start with "unable to apply caps: operation not permitted".
export function boundingCaps (): string[] {
  if (ownBounding === undefined) {
    try { ownBounding = capsFromStatus(readFileSync('/proc/self/status', 'utf8')) } catch { ownBounding = [...ALL_CAPS] }
  }
  return ownBounding
}

// The capability set after --privileged, --cap-add and --cap-drop (ALL accepted in both; ALL is `all`).
export function effectiveCaps (o: { privileged: boolean, capAdd: string[], capDrop: string[] }, all = boundingCaps()): string[] {
  if (o.privileged) return [...all]
  let caps = new Set(DEFAULT_CAPS)
  if (o.capDrop.some((c) => c.toUpperCase() === 'ALL')) caps = new Set()
  for (const c of o.capDrop) caps.delete(normCap(c))
  for (const c of o.capAdd) {
    if (c.toUpperCase() === 'ALL') all.forEach((x) => caps.add(x)); else caps.add(normCap(c))
  }
  return [...caps]
}

function capsFor (caps: string[], uid: number): Record<string, string[]> {
  // As podman: non-root processes keep only the bounding set; root gets effective = permitted = bounding.
  const isRoot = uid === 0
  return {
    bounding: caps,
    effective: isRoot ? caps : [],
    permitted: isRoot ? caps : [],
    inheritable: [],
    ambient: [],
  }
}

// Adds `KEY=VALUE` entries, later entries replacing earlier ones with the same key.
// Later lists win per key. An entry without `=` unsets its key, as dockerd's ReplaceOrAppendEnvValues does (the
// docker CLI sends `-e NAME` that way when NAME is not set where it runs), so it never reaches the runtime, which
// would refuse it.
export function mergeEnv (...lists: string[][]): string[] {
  const m = new Map<string, string>()
  for (const list of lists) for (const e of list) {
    const i = e.indexOf('=')
    if (i === -1) m.delete(e)
    else m.set(e.slice(0, i), e)
  }
  return [...m.values()]
}

const hasKey = (env: string[], key: string): boolean => env.some((e) => e.startsWith(key + '='))

export interface ContainerSpecOptions {
  id: string
  config: ContainerConfig
  rootfs: string
  cgroupsPath: string
  /** Resolved user; computed from the rootfs when not given. */
  user?: ResolvedUser
  seccomp?: unknown
  /** Files the engine made for /etc/hostname and /etc/hosts, bound over the image's (as Docker and podman do). */
  etcFiles?: { hostname: string, hosts: string }
}

// /etc/hosts of a container with a network namespace of its own (Docker's, with no address of its own to add).
export const CONTAINER_HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n'

// Builds the container's config.json.
export function buildContainerSpec (o: ContainerSpecOptions): Record<string, unknown> {
  const c = o.config
  const user = o.user ?? resolveUser(o.rootfs, c.user, c.groupAdd)
  let env = mergeEnv([`PATH=${DEFAULT_PATH}`], c.env)
  if (c.tty && !hasKey(env, 'TERM')) env.push('TERM=xterm')
  if (!hasKey(env, 'HOME')) env.push(`HOME=${user.home}`)
  if (!hasKey(env, 'HOSTNAME')) env = [...env, `HOSTNAME=${c.hostname}`]
  const caps = effectiveCaps(c)
  const namespaces = [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }]
  if (c.network === 'none') namespaces.push({ type: 'network' })
  const mounts: Array<Record<string, unknown>> = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['rprivate', 'nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ]
  if (o.etcFiles !== undefined) {
    mounts.push({ destination: '/etc/hostname', type: 'bind', source: o.etcFiles.hostname, options: ['rbind', 'rw', 'rprivate'] })
  }
  if (c.network === 'host') {
    mounts.push({ destination: '/etc/resolv.conf', type: 'bind', source: '/etc/resolv.conf', options: ['rbind', 'ro', 'rprivate'] })
    mounts.push({ destination: '/etc/hosts', type: 'bind', source: '/etc/hosts', options: ['rbind', 'ro', 'rprivate'] })
  } else if (o.etcFiles !== undefined) {
    mounts.push({ destination: '/etc/hosts', type: 'bind', source: o.etcFiles.hosts, options: ['rbind', 'rw', 'rprivate'] })
  }
  for (const m of c.mounts) {
    mounts.push({ destination: m.destination, type: 'bind', source: m.source, options: ['rbind', m.readonly ? 'ro' : 'rw', 'rprivate'] })
  }
  const process: Record<string, unknown> = {
    terminal: c.tty,
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids, ...(c.umask !== '' ? { umask: parseInt(c.umask, 8) } : {}) },
    args: [...c.entrypoint, ...c.command],
    env,
    cwd: c.workdir === '' ? '/' : c.workdir,
    capabilities: capsFor(caps, user.uid),
    rlimits: specRlimits(c.ulimits),
    noNewPrivileges: c.noNewPrivileges === true,
    oomScoreAdj: 0,
  }
  return {
    ociVersion: '1.0.2-dev',
    process,
    root: { path: o.rootfs, readonly: false },
    hostname: c.hostname,
    mounts,
    linux: {
      namespaces,
      cgroupsPath: o.cgroupsPath,
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      maskedPaths: c.privileged ? [] : MASKED,
      readonlyPaths: c.privileged ? [] : READONLY,
      ...(o.seccomp !== undefined && !c.privileged && c.seccomp !== 'unconfined' ? { seccomp: o.seccomp } : {}),
    },
  }
}

export interface ExecProcessOptions {
  containerSpec: Record<string, unknown>
  containerConfig: ContainerConfig
  exec: ExecConfig
  rootfs: string
  /** podman's CLI rule: TERM=xterm when the container or the exec has a tty, unless set. */
  addTerm: boolean
}

// Builds an exec session's process.json from the container's process, as podman's prepareProcessExec does.
export function buildExecProcess (o: ExecProcessOptions): Record<string, unknown> {
  const base = structuredClone(o.containerSpec.process) as Record<string, unknown>
  const e = o.exec
  const user = resolveUser(o.rootfs, e.user !== '' ? e.user : o.containerConfig.user, o.containerConfig.groupAdd)
  const baseEnv = (base.env as string[]).filter((x) => !x.startsWith('HOME=') || e.user === '')
  const env = mergeEnv(baseEnv, e.env)
  if (o.addTerm && !hasKey(env, 'TERM')) env.push('TERM=xterm')
  if (!hasKey(env, 'HOME')) env.push(`HOME=${user.home}`)
  const caps = e.privileged ? boundingCaps() : effectiveCaps(o.containerConfig)
  const umask = (base.user as { umask?: number }).umask
  const p: Record<string, unknown> = {
    ...base,
    terminal: e.tty,
    args: e.command,
    env,
    cwd: e.workdir !== '' ? e.workdir : (base.cwd as string),
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids, ...(umask !== undefined ? { umask } : {}) },
    capabilities: capsFor(caps, user.uid),
  }
  if (e.tty && e.consoleSize !== undefined) p.consoleSize = { height: e.consoleSize[0], width: e.consoleSize[1] }
  else delete p.consoleSize
  return p
}
