// `npm run soak`: the full soak (scripts/soak.sh builds, then runs this). Defaults: 1,000 execs of 1 MiB through
// the CLI and 1,000 through the API (every byte compared), 100 MiB through `exec -i` both ways (sha256), 10,000
// mixed execs 8-way, then the leak census: no exec conmon, bundle or mount left, the service's fds back to their
// count before the load, its RSS grown by at most 40 MiB, ended sessions pruned to the retention bound.
// Flags override the sizes: --cli N --api N --bytes N --stdin-mib N --mixed N --concurrency N --workers N.
// Prints `N passed, N failed`; exits 1 when a check failed, 2 when the soak could not run.
import { makeStore } from '../helpers'
import { startService } from '../reliability/lib'
import { Tally, apiOutput, baseline, cliOutput, leakCheck, mixed, startWorkers, stdinRoundTrip } from './scenarios'

interface Sizes { cli: number, api: number, bytes: number, stdinMib: number, mixed: number, concurrency: number, workers: number }

function parseSizes (argv: string[]): Sizes {
  const s: Sizes = { cli: 1000, api: 1000, bytes: 1024 * 1024, stdinMib: 100, mixed: 10_000, concurrency: 8, workers: 4 }
  const keys: Record<string, keyof Sizes> = { '--cli': 'cli', '--api': 'api', '--bytes': 'bytes', '--stdin-mib': 'stdinMib', '--mixed': 'mixed', '--concurrency': 'concurrency', '--workers': 'workers' }
  for (let i = 0; i < argv.length; i += 2) {
    const k = keys[argv[i]]
    const v = Number(argv[i + 1])
    if (k === undefined || !Number.isInteger(v) || v < 0) throw new Error(`usage: soak [--cli N] [--api N] [--bytes N] [--stdin-mib N] [--mixed N] [--concurrency N] [--workers N] (bad ${argv[i]} ${argv[i + 1] ?? ''})`)
    s[k] = v
  }
  return s
}

const log = (s: string): void => { process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${s}\n`) }

async function main (): Promise<number> {
  const sizes = parseSizes(process.argv.slice(2))
  log(`sizes: ${JSON.stringify(sizes)}`)
  const store = makeStore('soak')
  // The default retention bound (config exec_retention_count): at most this many ended sessions per container.
  const retention = 100
  const t = new Tally()
  const started = Date.now()
  let svc
  try {
    const workers = await startWorkers(store, sizes.workers)
    svc = await startService(store)
    // Warm-up: the first execs load modules, fill caches, create lazy resources (libuv's inotify fd on the first
    // exit-file watch) and take the allocator to its high-water mark under 8 concurrent 1 MiB streams (it rises for
    // ~100 execs, then stays flat); the baseline is taken after them.
    await apiOutput(new Tally(), svc, workers[0], 100, 1024 * 1024, sizes.concurrency)
    await mixed(new Tally(), store, svc, workers, 14, 7)
    const base = baseline(svc)
    log(`service pid ${svc.pid}: ${base.fds} fds, RSS ${(base.rss / 1024).toFixed(1)} MiB after warm-up`)

    let t0 = Date.now()
    await cliOutput(t, store, workers[0], sizes.cli, sizes.bytes, sizes.concurrency)
    log(`cli output: ${sizes.cli} execs × ${sizes.bytes} bytes in ${((Date.now() - t0) / 1000).toFixed(0)} s; ${t.passed} passed, ${t.failed} failed so far`)
    t0 = Date.now()
    await cliOutput(t, store, workers[0], sizes.cli, sizes.bytes, sizes.concurrency, 'handover')
    log(`piped cli output (handed over): ${sizes.cli} execs × ${sizes.bytes} bytes in ${((Date.now() - t0) / 1000).toFixed(0)} s; ${t.passed} passed, ${t.failed} failed so far`)
    t0 = Date.now()
    await cliOutput(t, store, workers[0], sizes.cli, sizes.bytes, sizes.concurrency, 'copy')
    log(`cli output copied beside a handed-over stderr: ${sizes.cli} execs × ${sizes.bytes} bytes in ${((Date.now() - t0) / 1000).toFixed(0)} s; ${t.passed} passed, ${t.failed} failed so far`)
    t0 = Date.now()
    await apiOutput(t, svc, workers[1 % workers.length], sizes.api, sizes.bytes, sizes.concurrency)
    log(`api output: ${sizes.api} execs × ${sizes.bytes} bytes in ${((Date.now() - t0) / 1000).toFixed(0)} s; ${t.passed} passed, ${t.failed} failed so far`)
    t0 = Date.now()
    await stdinRoundTrip(t, store, svc, workers[0], sizes.stdinMib * 1024 * 1024)
    log(`stdin: ${sizes.stdinMib} MiB through exec -i (cli and api) in ${((Date.now() - t0) / 1000).toFixed(0)} s; ${t.passed} passed, ${t.failed} failed so far`)
    t0 = Date.now()
    const counts = await mixed(t, store, svc, workers, sizes.mixed, sizes.concurrency, (d) => { if (d % 1000 === 0) log(`mixed: ${d}/${sizes.mixed}, ${t.failed} failed`) })
    log(`mixed: ${sizes.mixed} execs ${JSON.stringify(counts)} in ${((Date.now() - t0) / 1000).toFixed(0)} s`)
    const leaks = await leakCheck(t, store, svc, base, workers, { retention })
    log(`leaks: ${JSON.stringify(leaks)}`)
    log(`service RSS ${(leaks.rssBeforeKiB / 1024).toFixed(1)} → ${(leaks.rssAfterKiB / 1024).toFixed(1)} MiB, fds ${leaks.fdsBefore} → ${leaks.fdsAfter}`)
    log(`bytes checked: ${t.bytesChecked} (${(t.bytesChecked / 1024 / 1024).toFixed(0)} MiB) in ${((Date.now() - started) / 60000).toFixed(1)} min`)
  } finally {
    await svc?.stop()
    await store.cleanup()
  }
  for (const f of t.failures) process.stdout.write(`FAIL ${f}\n`)
  process.stdout.write(`${t.passed} passed, ${t.failed} failed\n`)
  return t.failed === 0 ? 0 : 1
}

main().then((code) => { process.exitCode = code }, (err) => {
  process.stdout.write(`soak could not run: ${(err as Error).stack ?? String(err)}\n0 passed, 1 failed\n`)
  process.exitCode = 2
})
