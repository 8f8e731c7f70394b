// Who is on the other end of a unix socket (SO_PEERCRED), for the audit trail. Uses conex's small native addon
// (native/peercred.c, built by scripts/build.mjs); without it, callers see undefined and record "unknown".
import { loadAddon } from './addon'
import type { Socket } from 'node:net'

export interface PeerCred { pid: number, uid: number, gid: number }

let addon: { peercred: (fd: number) => PeerCred | null } | null | undefined

function load (): typeof addon {
  if (addon !== undefined) return addon
  try { addon = loadAddon<NonNullable<typeof addon>>('peercred') } catch { addon = null }
  return addon
}

// The peer's pid/uid/gid, or undefined (not a unix socket, or the addon is unavailable).
export function peerCred (sock: Socket): PeerCred | undefined {
  const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd
  if (fd === undefined || fd < 0) return undefined
  return load()?.peercred(fd) ?? undefined
}

// The audit string for a request: `uid=0 pid=1234`, or `unknown`.
export function describePeer (sock: Socket): string {
  const c = peerCred(sock)
  return c === undefined ? 'unknown' : `uid=${c.uid} pid=${c.pid}`
}
