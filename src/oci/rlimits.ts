// Resource limits for OCI specs. A runtime that asks setrlimit for more than the engine's own hard limit fails with
// "operation not permitted" when CAP_SYS_RESOURCE is missing, so every limit is clamped to what this process has.
import { readFileSync } from 'node:fs'
import type { Ulimit } from '../engine/types'
import { invalid } from '../errors'

export interface Rlimit { type: string, soft: number, hard: number }

const NAMES: Record<string, string> = {
  'Max cpu time': 'cpu', 'Max file size': 'fsize', 'Max data size': 'data', 'Max stack size': 'stack',
  'Max core file size': 'core', 'Max resident set': 'rss', 'Max processes': 'nproc', 'Max open files': 'nofile',
  'Max locked memory': 'memlock', 'Max address space': 'as', 'Max file locks': 'locks',
  'Max pending signals': 'sigpending', 'Max msgqueue size': 'msgqueue', 'Max nice priority': 'nice',
  'Max realtime priority': 'rtprio', 'Max realtime timeout': 'rttime',
}

const UNLIMITED = Number.MAX_SAFE_INTEGER

// Parses /proc/self/limits into name → { soft, hard } (unlimited as MAX_SAFE_INTEGER).
export function parseProcLimits (text: string): Map<string, { soft: number, hard: number }> {
  const out = new Map<string, { soft: number, hard: number }>()
  for (const line of text.split('\n').slice(1)) {
    const label = Object.keys(NAMES).find((k) => line.startsWith(k))
    if (label === undefined) continue
    const [soft, hard] = line.slice(label.length).trim().split(/\s+/)
    const num = (v: string): number => v === 'unlimited' ? UNLIMITED : Number(v)
    out.set(NAMES[label], { soft: num(soft), hard: num(hard) })
  }
  return out
}

let cached: Map<string, { soft: number, hard: number }> | undefined
export function ownLimits (): Map<string, { soft: number, hard: number }> {
  cached ??= parseProcLimits(readFileSync('/proc/self/limits', 'utf8'))
  return cached
}

// podman's defaults (nofile 1048576, nproc 4194304), clamped to the engine's hard limits, plus user --ulimit values,
// which are refused when above the hard limit (the runtime would fail later with a less clear message).
export function specRlimits (user: Ulimit[], own = ownLimits()): Rlimit[] {
  const wanted = new Map<string, { soft: number, hard: number }>([
    ['nofile', { soft: 1048576, hard: 1048576 }],
    ['nproc', { soft: 4194304, hard: 4194304 }],
  ])
  const out: Rlimit[] = []
  for (const [type, v] of wanted) {
    const max = own.get(type)?.hard ?? UNLIMITED
    out.push({ type: 'RLIMIT_' + type.toUpperCase(), soft: Math.min(v.soft, max), hard: Math.min(v.hard, max) })
  }
  for (const u of user) {
    const max = own.get(u.name)?.hard ?? UNLIMITED
    if (u.hard > max) throw invalid(`--ulimit ${u.name}=${u.soft}:${u.hard}: the hard limit is above this engine's own (${max})`)
    const row = { type: 'RLIMIT_' + u.name.toUpperCase(), soft: u.soft, hard: u.hard }
    const i = out.findIndex((r) => r.type === row.type)
    if (i >= 0) out[i] = row; else out.push(row)
  }
  return out
}

// Parses `--ulimit name=soft[:hard]` (-1 means unlimited).
export function parseUlimit (s: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(s)
  if (m === null || !Object.values(NAMES).includes(m[1])) throw invalid(`invalid ulimit "${s}": expected NAME=SOFT[:HARD]`)
  const num = (v: string): number => v === '-1' ? UNLIMITED : Number(v)
  const soft = num(m[2])
  const hard = m[3] === undefined ? soft : num(m[3])
  if (soft > hard) throw invalid(`invalid ulimit "${s}": soft limit above hard limit`)
  return { name: m[1], soft, hard }
}
