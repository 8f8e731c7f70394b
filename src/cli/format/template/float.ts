// Go's strconv float formatting: exact decimal digits, round half to even, and the 'g' format.

// The exact decimal expansion of a finite x >= 0 (every double has one): x = 0.DIGITS × 10^dp.
export function exactDigits (x: number): { digits: string, dp: number } {
  if (x === 0) return { digits: '0', dp: 1 }
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  const hi = view.getUint32(0)
  const bits = (hi >>> 20) & 0x7ff
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4))
  if (bits !== 0) mant |= 1n << 52n
  const e = bits === 0 ? -1074 : bits - 1075 // x = mant × 2^e
  const s = e >= 0 ? (mant << BigInt(e)).toString() : (mant * 5n ** BigInt(-e)).toString() // × 10^min(e, 0)
  return { digits: s, dp: s.length + Math.min(e, 0) }
}

// Keeps the first `keep` digits of 0.DIGITS × 10^dp, rounding half to even on the exact value (as Go).
export function roundDigits ({ digits, dp }: { digits: string, dp: number }, keep: number): { digits: string, dp: number } {
  if (keep >= digits.length) return { digits, dp }
  if (keep < 0) return { digits: '0', dp: dp - keep + 1 }
  const head = digits.slice(0, keep)
  const drop = digits.slice(keep)
  const odd = head !== '' && Number(head[head.length - 1]) % 2 === 1
  const up = drop[0] > '5' || (drop[0] === '5' && (/[1-9]/.test(drop.slice(1)) || odd))
  const h = (BigInt(head === '' ? '0' : head) + (up ? 1n : 0n)).toString()
  return h === '0' ? { digits: '0', dp: dp - keep + 1 } : { digits: h, dp: dp - keep + h.length }
}

// Significant digits (no trailing zeros) and exponent of x >= 0: shortest round-trip when prec < 0,
// else rounded to prec significant digits.
export function decimalDigits (x: number, prec: number): { digits: string, exp: number } {
  if (prec < 0) {
    const [m, e] = x.toExponential().split('e')
    return { digits: m.replace('.', ''), exp: Number(e) }
  }
  const r = roundDigits(exactDigits(x), Math.max(prec, 1))
  return { digits: r.digits.replace(/(?<=.)0+$/, ''), exp: r.dp - 1 }
}

// `d.ddde±XX` with `decimals` digits after the point.
export function withExponent (digits: string, exp: number, decimals: number): string {
  const frac = digits.slice(1).padEnd(decimals, '0').slice(0, decimals)
  const e = Math.abs(exp).toString().padStart(2, '0')
  return digits[0] + (decimals > 0 ? '.' + frac : '') + 'e' + (exp < 0 ? '-' : '+') + e
}

// `ddd.ddd` with `decimals` digits after the point.
export function withPoint (digits: string, exp: number, decimals: number): string {
  const dp = exp + 1 // digits are 0.d1d2... × 10^dp
  let int = dp <= 0 ? '0' : digits.slice(0, dp).padEnd(dp, '0')
  int = int.replace(/^0+(?=\d)/, '')
  let frac = ''
  for (let k = 0; k < decimals; k++) frac += dp + k >= 0 && dp + k < digits.length ? digits[dp + k] : '0'
  return decimals > 0 ? `${int}.${frac}` : int
}

// strconv 'g': %e when the exponent is < -4 or >= the precision (6 when shortest), trailing zeros dropped.
export function floatG (x: number, prec: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf'
  const sign = x < 0 || Object.is(x, -0) ? '-' : ''
  const ax = Math.abs(x)
  if (ax === 0) return sign + '0'
  const p = prec === 0 ? 1 : prec
  const { digits, exp } = decimalDigits(ax, p)
  let eprec = p < 0 ? 6 : p
  if (p >= 0 && eprec > digits.length && digits.length >= exp + 1) eprec = digits.length
  if (exp < -4 || exp >= eprec) return sign + withExponent(digits, exp, digits.length - 1)
  return sign + withPoint(digits, exp, Math.max(digits.length - exp - 1, 0))
}
