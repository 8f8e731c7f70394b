// Resolves `user[:group]` against the container's own /etc/passwd and /etc/group, as the runtime would see them.
// Files are read from the mounted rootfs without following symlinks out of it.
import { lstatSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { invalid } from '../errors'

export interface ResolvedUser { uid: number, gid: number, additionalGids: number[], home: string, name?: string }

interface PasswdEntry { name: string, uid: number, gid: number, home: string }
interface GroupEntry { name: string, gid: number, members: string[] }

// A file of the rootfs, parsed, or parse('') when it is absent or a symlink (a symlinked /etc/passwd could point at
// the host's file). The parse is kept while the file is the same one, unchanged (inode, size, mtime and ctime, to the
// nanosecond): the service resolves the user of every exec, and reading and parsing both files each time was most of
// building an exec's process.
const parsedFiles = new Map<string, { key: string, value: unknown }>()

function readParsed<T> (rootfs: string, path: string, parse: (text: string) => T): T {
  const full = join(rootfs, path)
  let key: string
  try {
    if (lstatSync(join(rootfs, 'etc')).isSymbolicLink()) return parse('')
    const st = lstatSync(full, { bigint: true })
    if (st.isSymbolicLink()) return parse('')
    key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`
  } catch { return parse('') }
  const hit = parsedFiles.get(full)
  if (hit?.key === key) return hit.value as T
  let text: string
  try { text = readFileSync(full, 'utf8') } catch { return parse('') }
  const value = parse(text)
  if (parsedFiles.size >= 256) parsedFiles.clear()
  parsedFiles.set(full, { key, value })
  return value
}

export function parsePasswd (text: string): PasswdEntry[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => {
    const f = l.split(':')
    return { name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' }
  }).filter((e) => Number.isInteger(e.uid) && Number.isInteger(e.gid))
}

export function parseGroup (text: string): GroupEntry[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => {
    const f = l.split(':')
    return { name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').filter((m) => m !== '') }
  }).filter((e) => Number.isInteger(e.gid))
}

const isNum = (s: string): boolean => /^\d+$/.test(s)

// Resolves a group name or number; unknown names are an error, unknown numbers are allowed (as runc allows).
function resolveGroup (groups: GroupEntry[], g: string): number {
  if (isNum(g)) return Number(g)
  const e = groups.find((x) => x.name === g)
  if (e === undefined) throw invalid(`unable to find group ${g}: no matching entries in group file`)
  return e.gid
}

// Resolves `spec` (`''` means root) plus extra groups into numeric ids, as podman's user lookup does.
export function resolveUser (rootfs: string, spec: string, groupAdd: string[] = []): ResolvedUser {
  const passwd = readParsed(rootfs, 'etc/passwd', parsePasswd)
  const groups = readParsed(rootfs, 'etc/group', parseGroup)
  const [u, g] = spec === '' ? ['0', undefined] : spec.split(':', 2)
  let entry: PasswdEntry | undefined
  if (isNum(u)) entry = passwd.find((e) => e.uid === Number(u))
  else {
    entry = passwd.find((e) => e.name === u)
    if (entry === undefined) throw invalid(`unable to find user ${u}: no matching entries in passwd file`)
  }
  const uid = isNum(u) ? Number(u) : (entry as PasswdEntry).uid
  const gid = g !== undefined && g !== '' ? resolveGroup(groups, g) : (entry?.gid ?? 0)
  const additional = new Set<number>()
  // Supplementary groups from /etc/group apply only when the group was not forced with user:group; every group that
  // lists the user counts, its primary one included (runc's GetExecUser: `id` shows groups=100(users) for guest).
  if (entry !== undefined && g === undefined) {
    for (const grp of groups) if (grp.members.includes(entry.name)) additional.add(grp.gid)
  }
  for (const ga of groupAdd) additional.add(resolveGroup(groups, ga))
  return { uid, gid, additionalGids: [...additional], home: entry?.home ?? '/', name: entry?.name }
}
