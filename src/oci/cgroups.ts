// cgroup handling for containers and conmon: which hierarchy the host has, and moving a process into a cgroup.
// runc creates and removes the container's own cgroup from the spec's cgroupsPath; conex only places conmon (for
// containers and exec sessions) in a sibling cgroup before releasing it, and removes what it created.
import { readFileSync, writeFileSync, mkdirSync, rmdirSync, existsSync, readdirSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { writeEach } from '../util/fsbatch'
import { join } from 'node:path'

export type CgroupMode = 'v2' | 'hybrid' | 'v1'

const CG = '/sys/fs/cgroup'

// Reads /proc/self/mountinfo: cgroup2 at /sys/fs/cgroup is v2; v1 controllers plus a cgroup2 beside them is hybrid.
export function detectCgroupMode (mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): CgroupMode {
  let v2Root = false
  let v2Elsewhere = false
  let v1 = false
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ')
    if (post === undefined) continue
    const mountPoint = pre.split(' ')[4]
    const fstype = post.split(' ')[0]
    if (fstype === 'cgroup2') { if (mountPoint === CG) v2Root = true; else if (mountPoint.startsWith(CG + '/')) v2Elsewhere = true }
    if (fstype === 'cgroup' && mountPoint.startsWith(CG + '/')) v1 = true
  }
  if (v2Root) return 'v2'
  if (v1 && v2Elsewhere) return 'hybrid'
  return 'v1'
}

// The directories of one cgroup path in every hierarchy that is mounted (v1 controllers, or the v2 root).
export function cgroupDirs (mode: CgroupMode, path: string): string[] {
  if (mode === 'v2') return [join(CG, path)]
  return hierarchyRoots(mode).map((root) => join(root, path))
}

// The mounted hierarchies do not change while conex runs: read once per process (each exec's conmon joins them).
const roots = new Map<CgroupMode, string[]>()
function hierarchyRoots (mode: CgroupMode): string[] {
  const known = roots.get(mode)
  if (known !== undefined) return known
  const found: string[] = []
  let entries: string[] = []
  try { entries = readdirSync(CG) } catch { return found }
  for (const name of entries) {
    // Named and combined hierarchies (cpu,cpuacct) appear as directories; symlinks duplicate them.
    if (name === 'unified' && mode === 'hybrid') { found.push(join(CG, name)); continue }
    const full = join(CG, name)
    if (existsSync(join(full, 'cgroup.procs'))) found.push(full)
  }
  roots.set(mode, found)
  return found
}

// Moves `pid` into cgroup `path` in every hierarchy, creating it; failures in single controllers are ignored
// (a sandbox may deny some), and the number of hierarchies joined is returned. Off the event loop on purpose: on
// cgroup v1 the first write to a cgroup.procs waits for an RCU grace period in the kernel (measured 15-20 ms here,
// then ~0.1 ms per hierarchy), and the API service has other requests to serve meanwhile. The writes to all
// hierarchies are one thread-pool job (util/fsbatch): through fs/promises they were 30 round trips per exec here.
export async function joinCgroup (mode: CgroupMode, path: string, pid: number): Promise<number> {
  let todo = cgroupDirs(mode, path)
  let joined = 0
  // The cgroup is shared by every conmon, and a container's removal removes it when it is empty (rmdir fails while
  // any task is in it); a removal between our mkdir and our write is a missing directory: make it again.
  for (let attempt = 1; todo.length > 0 && attempt <= 5; attempt++) {
    const ready = (await Promise.all(todo.map(async (dir) => await prepare(dir) ? dir : undefined))).filter((d): d is string => d !== undefined)
    const errs = await writeEach(ready.map((dir) => join(dir, 'cgroup.procs')), String(pid))
    todo = []
    errs.forEach((err, i) => {
      if (err === undefined) joined++
      else if (err.code === 'ENOENT') { prepared.delete(ready[i]); todo.push(ready[i]) }
    })
  }
  return joined
}

// Directories this process created (or found) and prepared: every exec's conmon joins the same cgroup, so the mkdir
// and the cpuset reads are done once. False when the hierarchy cannot have it (a controller we may not use).
const prepared = new Set<string>()

async function prepare (dir: string): Promise<boolean> {
  if (prepared.has(dir)) return true
  try {
    // Usually there already (a stat, not a thread-pool round trip, in every CLI exec).
    if (!existsSync(dir)) await mkdir(dir, { recursive: true })
    // cpuset needs cpus/mems before a task can join (v1 only).
    if (dir.includes('/cpuset/')) inheritCpuset(dir)
    prepared.add(dir)
    return true
  } catch { return false }
}

function inheritCpuset (dir: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    try {
      if (readFileSync(join(dir, f), 'utf8').trim() !== '') continue
      const parent = join(dir, '..', f)
      writeFileSync(join(dir, f), readFileSync(parent, 'utf8').trim())
    } catch { /* not a cpuset hierarchy */ }
  }
}

// Removes cgroup `path` from every hierarchy; a cgroup that still has tasks stays (rmdir fails with EBUSY).
export function removeCgroup (mode: CgroupMode, path: string): void {
  for (const dir of cgroupDirs(mode, path)) {
    try { rmdirSync(dir) } catch { /* absent or busy */ }
  }
}
