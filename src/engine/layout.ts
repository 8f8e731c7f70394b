// Where each piece of a container or exec session lives on disk. Persistent data goes under root, everything that
// belongs to a running process (mounts, bundles, sockets, exit files) under runroot.
import { join } from 'node:path'

export class Layout {
  readonly root: string
  readonly runroot: string

  constructor (root: string, runroot: string) { this.root = root; this.runroot = runroot }

  /** Upper/work dirs and the log: survive a reboot. */
  containerDir (id: string): string { return join(this.root, 'containers', id) }
  upperDir (id: string): string { return join(this.containerDir(id), 'upper') }
  workDir (id: string): string { return join(this.containerDir(id), 'work') }
  logPath (id: string): string { return join(this.containerDir(id), 'ctr.log') }

  /** The OCI bundle: config.json, the rootfs mount point, pid files, attach socket, ctl FIFO. */
  bundle (id: string): string { return join(this.runroot, 'containers', id) }
  rootfs (id: string): string { return join(this.bundle(id), 'rootfs') }
  pidFile (id: string): string { return join(this.bundle(id), 'pidfile') }
  conmonPidFile (id: string): string { return join(this.bundle(id), 'conmon.pid') }
  specPath (id: string): string { return join(this.bundle(id), 'config.json') }
  /** The files bound over the container's /etc/hostname and /etc/hosts, written at each start. */
  etcFiles (id: string): { hostname: string, hosts: string } { return { hostname: join(this.bundle(id), 'hostname'), hosts: join(this.bundle(id), 'hosts') } }

  exitDir (): string { return join(this.runroot, 'exits') }
  exitFile (id: string): string { return join(this.exitDir(), id) }

  /** An exec session's bundle: short, under runroot, so paths stay readable. */
  execBundle (sessionId: string): string { return join(this.execBundlesDir(), sessionId) }
  /** The directory holding every exec session's bundle. */
  execBundlesDir (): string { return join(this.runroot, 'exec') }

  /** runc's own state directory. */
  runtimeState (): string { return join(this.runroot, 'runtime') }
  /** The service's link to its sealed copy of the runtime, one directory per process (src/oci/sealed-runtime.ts). */
  sealedRuntimeLinks (): string { return join(this.runroot, 'sealed-runtime') }

  /** The container's cgroup, created and removed by the runtime. */
  cgroupPath (id: string): string { return `/conex/${id}` }
  /**
   * The cgroup every conmon (of containers and exec sessions) is moved into before it is released, shared as
   * podman's cgroupfs `<parent>/conmon` is. One per-container cgroup would leak: the cleanup that could remove it
   * runs as conmon's own exit command, while conmon is still inside it.
   */
  conmonCgroup (_containerId: string): string { return '/conex/conmon' }
}
