// -e/--env and --env-file as podman reads them: `K=V`; `K` alone takes the host's value (skipped when unset);
// `PREFIX*` takes every host variable starting with PREFIX. Env files: one entry per line, # comments, blank lines.
import { readFileSync } from 'node:fs'
import { invalid } from '../errors'

export function expandEnv (entries: string[], host: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = []
  for (const e of entries) {
    if (e.includes('=')) {
      // The value is never quoted back: it may be a secret, and error messages end up in logs.
      if (e.startsWith('=')) throw invalid('invalid environment variable "=…": the name is empty')
      out.push(e)
      continue
    }
    if (e === '') throw invalid('invalid environment variable "": the name is empty')
    if (e.endsWith('*')) {
      const prefix = e.slice(0, -1)
      for (const [k, v] of Object.entries(host)) if (k.startsWith(prefix) && v !== undefined) out.push(`${k}=${v}`)
      continue
    }
    const v = host[e]
    if (v !== undefined) out.push(`${e}=${v}`)
  }
  return out
}

export function readEnvFiles (paths: string[]): string[] {
  const out: string[] = []
  for (const p of paths) {
    let text: string
    try { text = readFileSync(p, 'utf8') } catch (err) { throw invalid(`reading env file ${p}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`) }
    text.split('\n').forEach((raw, i) => {
      // Only leading whitespace goes: trailing whitespace belongs to the value (podman and docker trim the left).
      let line = raw.replace(/\r$/, '').trimStart()
      if (!line.includes('=')) line = line.trimEnd()
      if (line === '' || line.startsWith('#')) return
      if (/\s/.test(line.split('=', 1)[0])) throw invalid(`invalid env file ${p}, line ${i + 1}: variable "${line.split('=', 1)[0]}" contains whitespaces`)
      out.push(line)
    })
  }
  return out
}

// Env files first, then -e entries (later wins), as podman orders them.
export function collectEnv (envFlags: string[], envFiles: string[]): string[] {
  return expandEnv([...readEnvFiles(envFiles), ...envFlags])
}
