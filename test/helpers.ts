// Test helpers: an isolated conex store per test file (its own --root and --runroot), a way to run the real CLI
// binary with exact bytes in and out, and cleanup that leaves no container, mount or process behind.
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const CONEX_BIN = process.env.CONEX_TEST_BIN ?? resolve(__dirname, '../../bin/conex')
export const FIXTURES = resolve(__dirname, '../../test/fixtures')

export interface RunResult { code: number, stdout: Buffer, stderr: string, out: string }

export interface RunOptions { input?: Buffer | string, env?: NodeJS.ProcessEnv, timeoutMs?: number, stdio?: Array<'pipe' | 'inherit' | 'ignore' | number> }

// Runs any program with argv (never a shell) and collects exact output.
export function runProgram (cmd: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env: o.env ?? process.env, stdio: (o.stdio ?? ['pipe', 'pipe', 'pipe']) as any })
    const out: Buffer[] = []
    let err = ''
    child.stdout?.on('data', (d: Buffer) => out.push(d))
    child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${cmd} ${args.join(' ')} timed out`)) }, o.timeoutMs ?? 120_000)
    child.on('error', (e) => { clearTimeout(timer); reject(e) })
    child.on('close', (code, sig) => {
      clearTimeout(timer)
      const stdout = Buffer.concat(out)
      resolvePromise({ code: code ?? 128 + (sig === 'SIGKILL' ? 9 : 15), stdout, stderr: err, out: stdout.toString() })
    })
    if (child.stdin !== null) {
      child.stdin.on('error', () => { /* the process may exit before reading all input */ })
      if (o.input !== undefined) child.stdin.end(o.input); else child.stdin.end()
    }
  })
}

export interface Store {
  root: string
  runroot: string
  /** Global flags selecting this store. */
  flags: string[]
  conex: (args: string[], o?: RunOptions) => Promise<RunResult>
  cleanup: () => Promise<void>
}

// A fresh store under /tmp; `cleanup` removes every container (killing conmon's children) and the directories.
export function makeStore (name = 'test'): Store {
  const base = mkdtempSync(join('/tmp', `conex-${name}-`))
  const root = join(base, 'root')
  const runroot = join(base, 'run')
  const flags = ['--root', root, '--runroot', runroot]
  const conex = (args: string[], o?: RunOptions): Promise<RunResult> => runProgram(CONEX_BIN, [...flags, ...args], o)
  return {
    root,
    runroot,
    flags,
    conex,
    cleanup: async () => {
      await conex(['rm', '-f', '--all'], { timeoutMs: 60_000 }).catch(() => undefined)
      // conmon runs its exit command (`conex container cleanup`, which opens the store) after rm -f returns, and
      // waits for it: the store is only ours to delete once no process of it is left.
      for (let i = 0; i < 100 && processesMentioning(base).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100))
      // Anything still mounted under this store (a crashed test) is unmounted lazily before removal.
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m?.startsWith(base))
      for (const m of mounts.reverse()) { try { execFileSync('umount', ['-l', m]) } catch { /* already gone */ } }
      // Retries: an exit command (conmon → `conex container cleanup`) may still be writing the store as rm -f returns.
      if (existsSync(base)) rmSync(base, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 })
    },
  }
}

// Processes (other than this one) whose command line mentions `needle`.
function processesMentioning (needle: string): number[] {
  // maxBuffer as in conmonsFor: on a busy host ps prints more than 1 MiB, and ENOBUFS failed the cleanup.
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  return out.split('\n').filter((l) => l.includes(needle)).map((l) => Number(l.trim().split(/\s+/)[0])).filter((pid) => pid !== process.pid)
}

// conmon processes whose command line mentions `needle` (a store path): what a test must leave none of.
export function conmonsFor (needle: string): number[] {
  // maxBuffer: a busy host (hundreds of conmons with long argv) prints more than execFileSync's default 1 MiB.
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  return out.split('\n').filter((l) => l.includes('conmon') && l.includes(needle)).map((l) => Number(l.trim().split(/\s+/)[0]))
}

// Mount points under `prefix`.
export function mountsUnder (prefix: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m !== undefined && m.startsWith(prefix))
}

export interface TermSettings { echo: boolean, icanon: boolean, isig: boolean, icrnl: boolean, opost: boolean, onlcr: boolean }
export interface PtyResult { out: string, code: number, timedOut?: boolean, termios: { before: TermSettings, after: TermSettings, [snap: string]: TermSettings } }

// One step of a scripted pty session (see test/fixtures/ptyrun.py): wait for output text, type, resize, or sleep.
export type PtyStep = { wait: string } | { send: string } | { resize: [number, number] } | { sleep: number } | { snap: string }

// Steps for a shell under a pty: wait until its terminal has the size rows × cols (bounded by the pty timeout), then
// print it behind a marker the pty's echo of the typed line cannot contain: `SZ-42 <rows> <cols>\r\n`.
export const ptySizeIs = (rows: number, cols: number): PtyStep[] => [
  { send: `until [ "$(stty size)" = "${rows} ${cols}" ]; do sleep 0.1; done; echo SZ-$((6*7)) $(stty size)\r` },
  { wait: `SZ-42 ${rows} ${cols}\r\n` },
]

// Runs argv under a real pseudo-terminal (rows × cols) and types `send` ([seconds, text] pairs).
// `steps` run in order, each after the previous finished (no dependence on machine speed).
export async function runInPty (argv: string[], o: { rows?: number, cols?: number, send?: Array<[number, string]>, steps?: PtyStep[], timeout?: number } = {}): Promise<PtyResult> {
  const spec = JSON.stringify({ argv, rows: o.rows ?? 24, cols: o.cols ?? 80, send: o.send ?? [], steps: o.steps ?? [], timeout: o.timeout ?? 20 })
  const r = await runProgram('python3', [join(FIXTURES, 'ptyrun.py'), spec], { timeoutMs: ((o.timeout ?? 20) + 30) * 1000 })
  if (r.code !== 0) throw new Error(`ptyrun failed: ${r.stderr}`)
  return JSON.parse(r.out) as PtyResult
}
