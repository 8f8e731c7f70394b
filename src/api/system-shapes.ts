// Engine host information and events → Docker's SystemInfo, SystemVersion and EventMessage shapes, and podman's
// `info`/`version` shapes for libpod. Mapped here once.
import type { EngineEvent, HostInfo } from '../engine/types'
import { MAX_API_VERSION, MIN_API_VERSION, LIBPOD_API_VERSION } from './router'
import { rfc3339 } from '../util/time'

const goArch = (a: string): string => a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a
const unameArch = (a: string): string => a === 'x64' ? 'x86_64' : a === 'arm64' ? 'aarch64' : a
const cgroupVersion = (mode: string): string => mode === 'v2' || mode === 'unified' ? '2' : '1'

// GET /info.
export function dockerInfo (h: HostInfo): Record<string, unknown> {
  return {
    ID: h.hostname,
    Containers: h.containers.total,
    ContainersRunning: h.containers.running,
    ContainersPaused: h.containers.paused,
    ContainersStopped: h.containers.stopped,
    Images: h.images,
    Driver: 'overlay',
    DriverStatus: [['Backing Filesystem', 'overlay']],
    Plugins: { Volume: [], Network: [], Authorization: null, Log: ['json-file'] },
    MemoryLimit: true,
    SwapLimit: false,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    OomKillDisable: false,
    IPv4Forwarding: false,
    Debug: false,
    NFd: 0,
    NGoroutines: 0,
    SystemTime: rfc3339(Date.now()),
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: cgroupVersion(h.cgroupMode),
    NEventsListener: 0,
    KernelVersion: h.kernel,
    OperatingSystem: h.os,
    OSVersion: '',
    OSType: 'linux',
    Architecture: unameArch(h.arch),
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: { AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null, InsecureRegistryCIDRs: [], IndexConfigs: {}, Mirrors: null },
    NCPU: h.cpus,
    MemTotal: h.memTotal,
    GenericResources: null,
    DockerRootDir: h.root,
    HttpProxy: '',
    HttpsProxy: '',
    NoProxy: '',
    Name: h.hostname,
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: h.version,
    Runtimes: { [h.runtimeName]: { path: h.runtimePath } },
    DefaultRuntime: h.runtimeName,
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: '',
    ContainerdCommit: { ID: '' },
    RuncCommit: { ID: h.runtimeVersion },
    InitCommit: { ID: '' },
    SecurityOptions: ['name=seccomp,profile=default'],
    Warnings: [],
  }
}

// GET /version (and, with `libpod`, GET /libpod/version: the engine component is then "Podman Engine").
export function dockerVersion (h: HostInfo, o: { libpod: boolean }): Record<string, unknown> {
  const arch = goArch(h.arch)
  const built = rfc3339(0).replace('0001', '2024')
  const engine = {
    Name: o.libpod ? 'Podman Engine' : 'Engine',
    Version: o.libpod ? LIBPOD_API_VERSION : h.version,
    Details: {
      APIVersion: o.libpod ? LIBPOD_API_VERSION : MAX_API_VERSION, ApiVersion: MAX_API_VERSION, Arch: arch, BuildTime: built, Experimental: 'false', GitCommit: '',
      GoVersion: `node${process.versions.node}`, KernelVersion: h.kernel, MinAPIVersion: o.libpod ? '4.0.0' : MIN_API_VERSION, Os: 'linux',
    },
  }
  return {
    Platform: { Name: `linux/${arch}/conex` },
    Components: [
      engine,
      { Name: 'Conmon', Version: h.conmonVersion, Details: { Package: 'conmon' } },
      { Name: 'OCI Runtime (' + h.runtimeName + ')', Version: h.runtimeVersion, Details: { Package: h.runtimeName } },
    ],
    Version: o.libpod ? LIBPOD_API_VERSION : h.version,
    ApiVersion: MAX_API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: `node${process.versions.node}`,
    Os: 'linux',
    Arch: arch,
    KernelVersion: h.kernel,
    BuildTime: built,
  }
}

// GET /libpod/info: the parts of podman's `info` that remote clients read.
export function libpodInfo (h: HostInfo): Record<string, unknown> {
  const arch = goArch(h.arch)
  return {
    host: {
      arch, buildahVersion: '', cgroupManager: 'cgroupfs', cgroupVersion: `v${cgroupVersion(h.cgroupMode)}`, cgroupControllers: [],
      conmon: { package: 'conmon', path: h.conmonPath, version: h.conmonVersion },
      cpus: h.cpus, distribution: { distribution: h.os, version: '' }, eventLogger: 'file', hostname: h.hostname, kernel: h.kernel,
      memFree: 0, memTotal: h.memTotal, ociRuntime: { name: h.runtimeName, package: h.runtimeName, path: h.runtimePath, version: h.runtimeVersion },
      os: 'linux', remoteSocket: { exists: true, path: '' }, security: { rootless: process.getuid?.() !== 0, seccompEnabled: true },
      swapFree: 0, swapTotal: 0, uptime: '', linkmode: 'dynamic', idMappings: { gidmap: null, uidmap: null },
    },
    store: {
      configFile: '', containerStore: { number: h.containers.total, paused: h.containers.paused, running: h.containers.running, stopped: h.containers.stopped },
      graphDriverName: 'overlay', graphOptions: {}, graphRoot: h.root, graphStatus: {}, imageCopyTmpDir: '/var/tmp', imageStore: { number: h.images },
      runRoot: h.runroot, volumePath: '',
    },
    registries: {},
    plugins: { volume: [], network: [], log: ['k8s-file'], authorization: null },
    version: { APIVersion: LIBPOD_API_VERSION, Version: LIBPOD_API_VERSION, GoVersion: `node${process.versions.node}`, GitCommit: '', BuiltTime: '', Built: 0, OsArch: `linux/${arch}` },
  }
}

/** What an event needs besides itself: the container's name and image, which exec events do not carry. */
export interface EventActor { name?: string, image?: string, command?: string }

const CONTAINER_ACTIONS: Record<string, string> = { died: 'die', remove: 'destroy', cleanup: 'cleanup' }
const IMAGE_ACTIONS: Record<string, string> = { remove: 'delete' }

// An engine event → Docker's EventMessage. Exec events are container events in Docker ("exec_create: CMD",
// "exec_start: CMD", "exec_die"); the engine's exec_died is podman's name for exec_die.
export function dockerEvent (e: EngineEvent, actor: EventActor): Record<string, unknown> {
  let type = e.type as string
  let action = e.action
  let id = e.id
  const attrs: Record<string, string> = {}
  if (e.type === 'exec') {
    type = 'container'
    id = e.attributes.containerID ?? e.id
    const cmd = e.attributes.command ?? actor.command ?? ''
    action = e.action === 'exec_died' ? 'exec_die' : `${e.action}: ${cmd}`
    attrs.execID = e.attributes.execID ?? e.id
    if (e.action === 'exec_died') attrs.exitCode = e.attributes.exitCode ?? ''
  } else if (e.type === 'container') {
    action = CONTAINER_ACTIONS[e.action] ?? e.action
    for (const [k, v] of Object.entries(e.attributes)) attrs[k] = v
  } else {
    action = IMAGE_ACTIONS[e.action] ?? e.action
    id = e.id.startsWith('sha256:') ? e.id : `sha256:${e.id}`
    for (const [k, v] of Object.entries(e.attributes)) attrs[k] = v
  }
  if (type === 'container') {
    if (actor.image !== undefined && attrs.image === undefined) attrs.image = actor.image
    if (actor.name !== undefined && attrs.name === undefined) attrs.name = actor.name
  }
  const msg: Record<string, unknown> = {}
  if (type === 'container') { msg.status = action; msg.id = id; msg.from = attrs.image ?? '' }
  return { ...msg, Type: type, Action: action, Actor: { ID: id, Attributes: attrs }, scope: 'local', time: e.time }
}

// One line of the /events stream. timeNano is an int64 that a JS number cannot hold exactly: written by hand.
export function dockerEventLine (e: EngineEvent, actor: EventActor): string {
  return JSON.stringify(dockerEvent(e, actor)).slice(0, -1) + `,"timeNano":${e.timeNano.toString()}}\n`
}
