// overlayfs mounts through mount(8)/umount(8): Node has no mount(2). Arguments are passed as an argv array,
// never through a shell.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { EngineError } from '../errors'

function run (cmd: string, args: string[]): Promise<{ code: number, stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, (err, _out, stderr) => resolve({ code: err === null ? 0 : 1, stderr }))
  })
}

// True when `path` is a mount point (listed in /proc/self/mountinfo).
export function isMounted (path: string): boolean {
  const info = readFileSync('/proc/self/mountinfo', 'utf8')
  const needle = ' ' + path.replace(/ /g, '\\040') + ' '
  return info.split('\n').some((l) => l.split(' ')[4] === path || l.includes(needle + 'rw') || l.includes(needle + 'ro'))
}

// Mounts an overlay of `lower` (top layer first) + upper/work at `target`.
export async function mountOverlay (o: { lower: string[], upper: string, work: string, target: string }): Promise<void> {
  if (isMounted(o.target)) return
  const opts = `lowerdir=${o.lower.join(':')},upperdir=${o.upper},workdir=${o.work}`
  const r = await run('/bin/mount', ['-t', 'overlay', 'overlay', '-o', opts, o.target])
  if (r.code !== 0) throw new EngineError('RUNTIME_ERROR', `mounting the container's rootfs at ${o.target}: ${r.stderr.trim()}`)
}

// Unmounts `target` if it is mounted (lazily when busy, so a stuck reader cannot block cleanup).
export async function unmount (target: string): Promise<void> {
  if (!isMounted(target)) return
  const r = await run('/bin/umount', [target])
  if (r.code !== 0 && isMounted(target)) await run('/bin/umount', ['-l', target])
}
