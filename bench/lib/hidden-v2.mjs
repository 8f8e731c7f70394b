// A what-if for the exec floor on cgroup v1 "hybrid" hosts, where crun refuses to run ("cgroups in hybrid mode not
// supported, drop all controllers from cgroupv2"): a helper process in a private mount namespace without the host's
// cgroup2 mount, where crun sees a plain cgroup v1 host and runs. Only the bench uses it, for one floor row that
// answers "would crun, whose exec is the cheapest there is, make the docker-CLI target reachable here?". conex never
// does this: on such a host it runs runc, as the host asks.
//
// The helper (this file run as a program, under `unshare --mount --propagation private`) unmounts the cgroup2 mount
// in its own namespace only, then runs the commands it is sent, one JSON line each ({ id, cmd, args, timeoutMs }),
// and answers one JSON line each ({ id, code, ms, stderr, error }), timed by util.mjs's run() as every other row is.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'
import { run } from './util.mjs'

const SELF = fileURLToPath(import.meta.url)

/** The host's cgroup2 mount point when it sits beside v1 hierarchies ("hybrid"), else undefined. */
export function hybridCgroup2Mount () {
  let info
  try { info = fs.readFileSync('/proc/self/mountinfo', 'utf8') } catch { return undefined }
  for (const line of info.split('\n')) {
    const [before, after] = line.split(' - ')
    if (after?.split(' ')[0] !== 'cgroup2') continue
    const mountPoint = before.split(' ')[4]
    if (mountPoint !== '/sys/fs/cgroup') return mountPoint
  }
  return undefined
}

export class HiddenV2 {
  /** Starts the helper; resolves to a HiddenV2, or throws with the reason it cannot run. */
  static async start (mountPoint, { timeoutMs = 10_000 } = {}) {
    const child = spawn('unshare', ['--mount', '--propagation', 'private', process.execPath, SELF, mountPoint], { stdio: ['pipe', 'pipe', 'pipe'] })
    const h = new HiddenV2(child)
    let stderr = ''
    child.stderr.on('data', (d) => { if (stderr.length < 4096) stderr += d })
    const ready = await Promise.race([
      h.#next('ready'),
      new Promise((resolve) => child.once('exit', (code) => resolve({ error: `helper exited (${code}): ${stderr.trim()}` }))),
      new Promise((resolve) => setTimeout(() => resolve({ error: 'helper did not start in time' }), timeoutMs).unref())
    ])
    if (ready.error) { h.close(); throw new Error(ready.error) }
    return h
  }

  #child
  #waiting = new Map()
  #seq = 0

  constructor (child) {
    this.#child = child
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      let msg
      try { msg = JSON.parse(line) } catch { return }
      const w = this.#waiting.get(msg.id)
      if (w) { this.#waiting.delete(msg.id); w(msg) }
    })
    child.on('exit', () => {
      for (const w of this.#waiting.values()) w({ code: -1, ms: 0, stderr: '', error: 'helper exited' })
      this.#waiting.clear()
    })
  }

  #next (id) { return new Promise((resolve) => this.#waiting.set(id, resolve)) }

  /** Runs cmd in the helper's namespace: { code, ms, stderr, error }. */
  run (cmd, args, { timeoutMs = 30_000 } = {}) {
    const id = ++this.#seq
    const answer = this.#next(id)
    this.#child.stdin.write(JSON.stringify({ id, cmd, args, timeoutMs }) + '\n')
    return answer
  }

  close () {
    this.#child.stdin.end()
    if (this.#child.exitCode === null) this.#child.kill('SIGTERM')
  }
}

async function helper (mountPoint) {
  const um = await run('umount', [mountPoint], { timeoutMs: 10_000 })
  const still = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mountPoint)
  if (um.code !== 0 || still) {
    process.stderr.write(`cannot hide ${mountPoint}: ${um.stderr.trim() || `exit ${um.code}`}\n`)
    process.exit(1)
  }
  const say = (msg) => process.stdout.write(JSON.stringify(msg) + '\n')
  say({ id: 'ready' })
  // One command at a time, in order: the rows that use it are timed one after the other anyway.
  for await (const line of readline.createInterface({ input: process.stdin })) {
    let req
    try { req = JSON.parse(line) } catch { continue }
    const r = await run(req.cmd, req.args, { timeoutMs: req.timeoutMs })
    say({ id: req.id, code: r.code, ms: r.ms, stderr: r.stderr.slice(0, 2000), error: r.error })
  }
}

if (process.argv[1] === SELF) {
  helper(process.argv[2]).catch((e) => { process.stderr.write(`${e.stack}\n`); process.exit(1) })
}
