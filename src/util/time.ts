// Times as Docker and podman print them.

/** Go's zero time, which Docker prints for "never". */
export const ZERO_TIME = '0001-01-01T00:00:00Z'

/** RFC 3339 in UTC with nanoseconds (milliseconds padded with six zeros), Docker's time format; ZERO_TIME for 0 (or less). */
export const rfc3339 = (ms: number): string => ms > 0 ? new Date(ms).toISOString().replace(/(\.\d{3})Z$/, '$1000000Z') : ZERO_TIME
