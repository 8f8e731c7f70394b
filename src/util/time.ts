// Times as Docker and podman print them.

/** Go's zero time, which Docker prints for "never". */
export const ZERO_TIME = '0001-01-01T00:00:00Z'

/** RFC 3339 in UTC with nanoseconds (milliseconds padded with six zeros), Docker's time format; ZERO_TIME for 0 (or less). */
export const rfc3339 = (ms: number): string => ms > 0 ? new Date(ms).toISOString().replace(/(\.\d{3})Z$/, '$1000000Z') : ZERO_TIME

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, '\u00b5s': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * A --since/--until value as Docker and podman take it, in nanoseconds since the epoch: unix seconds (fractions to
 * the nanosecond), a Go duration before `now` ("10m", "1h30m", "500ms"; ns, us, \u00b5s, ms, s, m, h), or an RFC 3339
 * time. undefined when it is none of these (each caller words its own error).
 */
export function parseTimeNs (v: string, now = Date.now()): bigint | undefined {
  const m = /^(\d{1,12})(?:\.(\d{1,9}))?$/.exec(v)
  if (m !== null) return BigInt(m[1]) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'))
  if (/^(\d{1,9}(\.\d+)?(ns|us|\u00b5s|ms|s|m|h))+$/.test(v)) {
    let ms = 0
    for (const [, n, , unit] of v.matchAll(/(\d{1,9}(\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/g)) ms += Number(n) * UNIT_MS[unit]
    return BigInt(Math.round(now - ms)) * 1_000_000n
  }
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : BigInt(t) * 1_000_000n
}
