import { closeSync, openSync, readSync } from 'node:fs'

// Random bytes from the kernel's CSPRNG. Not node:crypto's randomBytes: loading that module costs the CLI ~6.5 ms
// per command here (it compiles node's crypto internals), more than the rest of an id's work by far.
function randomBytes (n: number): Buffer {
  const b = Buffer.allocUnsafe(n)
  const fd = openSync('/dev/urandom', 'r')
  try {
    let got = 0
    while (got < n) got += readSync(fd, b, got, n - got, null)
  } finally { closeSync(fd) }
  return b
}

// A 64-hex random id, as podman and Docker give containers and exec sessions.
export const generateId = (): string => randomBytes(32).toString('hex')

// The 12-character form used in tables.
export const shortId = (id: string): string => id.slice(0, 12)

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/

// True when `name` is a valid container name (Docker's rule).
export const isValidName = (name: string): boolean => NAME_RE.test(name) && name.length <= 253

const ADJ = [
  'admiring', 'affectionate', 'amazing', 'awesome', 'blissful', 'bold', 'brave', 'charming', 'clever',
  'compassionate', 'confident', 'cool', 'dazzling', 'determined', 'eager', 'ecstatic', 'elegant', 'epic',
  'festive', 'focused', 'friendly', 'gallant', 'gifted', 'goofy', 'happy', 'hopeful', 'inspiring', 'jolly', 'keen',
  'kind', 'laughing', 'lucid', 'magical', 'modest', 'nice', 'nifty', 'optimistic', 'peaceful', 'quirky', 'relaxed',
  'serene', 'sharp', 'stoic', 'sweet', 'tender', 'trusting', 'upbeat', 'vibrant', 'wizardly', 'zealous',
]
const NOUN = [
  'turing', 'hopper', 'lovelace', 'ritchie', 'thompson', 'knuth', 'dijkstra', 'torvalds', 'liskov', 'shannon',
  'babbage', 'curie', 'darwin', 'einstein', 'euler', 'feynman', 'gauss', 'goldberg', 'hamilton', 'hawking',
  'hypatia', 'kepler', 'lamarr', 'lamport', 'mccarthy', 'meitner', 'newton', 'noether', 'pascal', 'perlman',
  'pike', 'poincare', 'ramanujan', 'sammet', 'shamir', 'tesla', 'kernighan', 'wiles', 'wozniak', 'yonath',
]

// A random human name like podman's `keen_hopper`.
export function randomName (): string {
  const b = randomBytes(3)
  return `${ADJ[b[0] % ADJ.length]}_${NOUN[b[1] % NOUN.length]}${b[2] % 4 === 0 ? '' : String(b[2] % 100)}`
}
