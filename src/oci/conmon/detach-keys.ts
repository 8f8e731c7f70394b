// Detach key sequences: parsing podman's syntax and matching them in a stdin byte stream, also when the keys
// arrive in one read (podman's matcher only works when each key is its own read: containers/common #2302).
import { invalid } from '../../errors'

// Parses `ctrl-p,ctrl-q` (or a single char, `ctrl-@`, `ctrl-[`...) into bytes; '' disables detaching (empty buffer).
export function parseDetachKeys (spec: string): Buffer {
  if (spec === '') return Buffer.alloc(0)
  const out: number[] = []
  for (const part of spec.split(',')) {
    const p = part.trim()
    if (p.length === 1) { out.push(p.charCodeAt(0)); continue }
    const m = /^ctrl-(.)$/i.exec(p)
    if (m === null) {
      if (p.toUpperCase() === 'DEL') { out.push(0x7f); continue }
      throw invalid(`invalid detach keys "${spec}": "${p}" is not a key (use a single character or ctrl-<key>)`)
    }
    const k = m[1].toLowerCase()
    if (k >= 'a' && k <= 'z') out.push(k.charCodeAt(0) - 96)
    else {
      const special: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 }
      if (!(k in special)) throw invalid(`invalid detach keys "${spec}": unknown key "${p}"`)
      out.push(special[k])
    }
  }
  return Buffer.from(out)
}

// Formats bytes back into podman's syntax (for inspect output).
export function formatDetachKeys (keys: Buffer): string {
  return [...keys].map((b) => b >= 1 && b <= 26 ? `ctrl-${String.fromCharCode(b + 96)}` : b === 0 ? 'ctrl-@' : String.fromCharCode(b)).join(',')
}

export interface DetachScan {
  /** Bytes to forward to the process now. */
  forward: Buffer
  /** True when the full sequence was seen: stop forwarding and detach. */
  detached: boolean
}

// A stateful matcher: a partial match at the end of one chunk is held back until the next chunk decides it; when
// the sequence breaks, the held bytes are forwarded, in order, so no byte is lost.
export class DetachMatcher {
  readonly #keys: Buffer
  #held = 0

  constructor (keys: Buffer) { this.#keys = keys }

  scan (chunk: Buffer): DetachScan {
    const keys = this.#keys
    if (keys.length === 0) return { forward: chunk, detached: false }
    const startHeld = this.#held
    const out: number[] = []
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]
      if (b === keys[this.#held]) {
        this.#held++
        if (this.#held === keys.length) return { forward: Buffer.from(out), detached: true }
        continue
      }
      // Mismatch: of the held bytes plus this one, the longest tail that still starts the sequence stays held (keys
      // may repeat a byte: `a,a,b` typed as "aaab"); the bytes before it go on to the process, in order.
      const seen = [...keys.subarray(0, this.#held), b]
      let keep = this.#held
      while (keep > 0 && !seen.slice(seen.length - keep).every((x, j) => x === keys[j])) keep--
      for (let j = 0; j < seen.length - keep; j++) out.push(seen[j])
      this.#held = keep
    }
    // The chunk itself only when nothing held from an earlier chunk was released into it (same length, other order).
    return { forward: startHeld === 0 && out.length === chunk.length ? chunk : Buffer.from(out), detached: false }
  }

  // The bytes held back at the end of input (stdin EOF): forward them.
  flush (): Buffer {
    const b = this.#keys.subarray(0, this.#held)
    this.#held = 0
    return Buffer.from(b)
  }
}
