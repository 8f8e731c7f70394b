// Measures what a slow API client costs the service: an exec streams `--mib` MiB (default 1024) to a client that
// reads `--rate` MiB/s (default 8), and the service's RSS is sampled every 200 ms. Prints the peak and whether every
// byte arrived. `node dist/test/soak/slow-client.js [--mib N] [--rate N]`; docs/reliability.md has the results.
import { makeStore } from '../helpers'
import { api, hijackStart, rssKiB, sleep, startService } from '../reliability/lib'

async function main (): Promise<number> {
  const args = process.argv.slice(2)
  const opt = (name: string, dflt: number): number => { const i = args.indexOf(name); return i === -1 ? dflt : Number(args[i + 1]) }
  const mib = opt('--mib', 1024)
  const rate = opt('--rate', 8)
  const store = makeStore('slow-client')
  const svc = await startService(store)
  try {
    const run = await store.conex(['run', '-d', '--name', 'src', 'busybox', 'sleep', '100000'])
    if (run.code !== 0) throw new Error(run.stderr)
    const c = await api(svc.sock, 'POST', '/v1.44/containers/src/exec', { AttachStdout: true, AttachStderr: true, Cmd: ['head', '-c', String(mib * 1024 * 1024), '/dev/zero'] })
    const id = c.json().Id as string
    const rss0 = rssKiB(svc.pid)
    let peak = rss0
    let got = 0
    let done = false
    const sampler = (async () => { while (!done) { peak = Math.max(peak, rssKiB(svc.pid)); await sleep(200) } })()
    const t0 = Date.now()
    const r = await hijackStart(svc.sock, id, {
      timeoutMs: 3_600_000,
      onStdout: (d) => { got += d.length },
      // Read at `rate` MiB/s: resume for the time one MiB takes at that rate... by pausing after each 1 MiB.
      onSocket: (s) => {
        let budget = 0
        const tick = setInterval(() => { budget += rate * 1024 * 1024 / 10; s.resume() }, 100)
        s.on('data', (d: Buffer) => { budget -= d.length; if (budget <= 0) s.pause() })
        s.on('close', () => clearInterval(tick))
      },
    })
    done = true
    await sampler
    const secs = (Date.now() - t0) / 1000
    const i = (await api(svc.sock, 'GET', `/v1.44/exec/${id}/json`)).json()
    process.stdout.write(`slow client: ${mib} MiB at ${rate} MiB/s: received ${got} bytes (${got === mib * 1024 * 1024 ? 'complete' : 'INCOMPLETE'}) in ${secs.toFixed(0)} s, status ${r.status}, exit ${i.ExitCode as number}; service RSS ${(rss0 / 1024).toFixed(0)} MiB before, peak ${(peak / 1024).toFixed(0)} MiB\n`)
    return got === mib * 1024 * 1024 ? 0 : 1
  } finally {
    await svc.stop()
    await store.cleanup()
  }
}

main().then((code) => { process.exitCode = code }, (err) => { process.stdout.write(`slow-client could not run: ${(err as Error).stack ?? String(err)}\n`); process.exitCode = 2 })
