// A sealed copy of the OCI runtime's binary, made by the API service for the conmons it spawns to run.
//
// runc (1.1) and crun guard the host's runtime binary against a container process that opens /proc/<pid>/exe of a
// runtime process in its namespaces and writes to it (CVE-2019-5736): at every `create` and `exec`, `runc init` first
// makes itself a copy nobody can write (as root: a read-only bind mount of its own binary, made, remounted and
// detached in the host's mount namespace, then a re-exec of it), unless /proc/self/exe already is a memfd sealed
// against writes, which runc takes as that copy (its cloned_binary.c: "an admin could bind-mount a sealed memfd to
// /usr/bin/runc to allow re-use"). The service makes that memfd once and has conmon run it (through the link below);
// the protection is the same (the copy cannot be written, by anyone), the work per exec is gone: `runc exec` 26.9 ->
// 25.2 and 26.9 -> 24.5 ms here (medians of 100, alternating). Making the copy costs ~7 ms (8.7 MB through the page
// cache), more than one exec saves, so the one-shot CLI runs the installed binary.
//
// The binary is stat'ed at every use: when the package manager replaces it (a runtime security fix), the next spawn
// gets a new copy. The old one is closed RETIRE_MS later, when no conmon given its path can still be waiting to run
// it (a prepared or spare conmon waits at most 10 s, src/engine/exec/exec-prepare.ts). Where no copy can be made (no
// addon, vm.memfd_noexec = 2, a binary that cannot be read), the installed path is used.
//
// conmon is given a symlink to the copy, named as the binary (<linkDir>/runc -> /proc/<pid>/fd/<n>): a process is named
// after the last part of the path it was started from, and `ps`, `top` and `pgrep runc` should see "runc", not "24".
// linkDir is the service's own (<runroot>/sealed-runtime/<pid>); those of services that are gone are removed.
import { closeSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { basename, join } from 'node:path'
import { loadAddon } from '../util/addon'
import { processStartTime } from '../util/proc'

interface Native {
  sealedCopy: (path: string, name: string) => number
  seals: (fd: number) => number
}

const RETIRE_MS = 60_000

// What identifies one version of the binary: a replaced file has a new inode or times.
function versionOf (binary: string): string | undefined {
  try {
    const st = statSync(binary, { bigint: true })
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`
  } catch { return undefined }
}

export interface SealedRuntimeOptions {
  /** The directory of per-process link directories (<runroot>/sealed-runtime). */
  linkRoot: string
  /** How long a replaced copy stays open (tests shorten it). */
  retireMs?: number
}

export class SealedRuntime {
  readonly binary: string
  /** The symlink conmon is given: <linkRoot>/<pid>/<the binary's name>. */
  readonly link: string
  readonly #native: Native
  readonly #retireMs: number
  #fd: number
  #version: string
  readonly #retiring = new Map<NodeJS.Timeout, number>()

  private constructor (binary: string, native: Native, fd: number, version: string, o: SealedRuntimeOptions) {
    this.binary = binary
    this.link = join(o.linkRoot, String(process.pid), basename(binary))
    this.#native = native
    this.#fd = fd
    this.#version = version
    this.#retireMs = o.retireMs ?? RETIRE_MS
  }

  /** A sealed copy of `binary`, or undefined where none can be made (the caller runs the binary itself). */
  static make (binary: string, o: SealedRuntimeOptions): SealedRuntime | undefined {
    let native: Native
    try { native = loadAddon<Native>('procspawn') } catch { return undefined }
    const version = versionOf(binary)
    if (version === undefined) return undefined
    const fd = copy(native, binary)
    if (fd === undefined) return undefined
    const s = new SealedRuntime(binary, native, fd, version, o)
    try {
      removeStaleLinks(o.linkRoot)
      mkdirSync(join(o.linkRoot, String(process.pid)), { recursive: true, mode: 0o700 })
      s.#point()
    } catch {
      s.close()
      return undefined
    }
    return s
  }

  /** The path conmon is to run: the copy of the binary as it is now, or the binary itself when it changed and no new copy can be made. */
  path (): string {
    if (this.#fd < 0) return this.binary
    const version = versionOf(this.binary)
    if (version !== undefined && version !== this.#version) {
      const fd = copy(this.#native, this.binary)
      if (fd === undefined) return this.binary
      const old = this.#fd
      this.#fd = fd
      try { this.#point() } catch { this.#fd = old; closeFd(fd); return this.binary }
      this.#retire(old)
      this.#version = version
    }
    return this.link
  }

  /** The seals of the current copy (F_GET_SEALS). */
  seals (): number { return this.#native.seals(this.#fd) }

  /** Closes the copy and any being retired, and removes the link; path() is the binary's own from then on. */
  close (): void {
    for (const [t, fd] of this.#retiring) { clearTimeout(t); closeFd(fd) }
    this.#retiring.clear()
    closeFd(this.#fd)
    this.#fd = -1
    rmSync(join(this.link, '..'), { recursive: true, force: true })
  }

  // The link names the current copy; replaced in one rename, so a conmon starting the runtime meanwhile finds one.
  #point (): void {
    const tmp = `${this.link}.new`
    rmSync(tmp, { force: true })
    symlinkSync(`/proc/${process.pid}/fd/${this.#fd}`, tmp)
    renameSync(tmp, this.link)
  }

  #retire (fd: number): void {
    const t = setTimeout(() => { this.#retiring.delete(t); closeFd(fd) }, this.#retireMs)
    t.unref()
    this.#retiring.set(t, fd)
  }
}

function copy (native: Native, binary: string): number | undefined {
  try { return native.sealedCopy(binary, `conex-${basename(binary)}`) } catch { return undefined }
}

function closeFd (fd: number): void {
  if (fd < 0) return
  try { closeSync(fd) } catch { /* already closed */ }
}

// The link directories of processes that are gone (a service that was killed).
function removeStaleLinks (linkRoot: string): void {
  let names: string[]
  try { names = readdirSync(linkRoot) } catch { return }
  for (const name of names) {
    if (/^\d+$/.test(name) && Number(name) !== process.pid && processStartTime(Number(name)) === undefined) rmSync(join(linkRoot, name), { recursive: true, force: true })
  }
}
