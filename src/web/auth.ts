// The web console's access token: 24 random bytes (base64url), printed once by the service and kept in
// <runroot>/web-url. A request carries it as `?token=`, as the cookie the first visit sets, or as
// `Authorization: Bearer`; the comparison is constant-time.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export const COOKIE = 'conex_web_token'

// A fresh token.
export function newToken (): string { return randomBytes(24).toString('base64url') }

export interface Presented {
  token: string
  /** It came in the URL: the reply sets the cookie so that later requests (assets, API, WebSocket) need no query. */
  fromQuery: boolean
}

// The token a request presents, wherever it put it; undefined when none.
export function presentedToken (req: IncomingMessage): Presented | undefined {
  const auth = req.headers.authorization
  if (auth !== undefined && /^Bearer\s+/i.test(auth)) return { token: auth.replace(/^Bearer\s+/i, '').trim(), fromQuery: false }
  const q = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token')
  if (q !== null) return { token: q, fromQuery: true }
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === COOKIE) return { token: part.slice(eq + 1).trim(), fromQuery: false }
  }
  return undefined
}

// Constant-time equality of two tokens (lengths may differ).
export function sameToken (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

// The Set-Cookie value for `token`: not readable by scripts, never sent cross-site.
export function tokenCookie (token: string): string {
  return `${COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`
}
