/**
 * `demo:cluster`: forms a 4-process cluster on loopback, adds a 5th member
 * elastically, kills one member and shows its detection and the
 * renumbering of the survivors, then stops everything and removes its
 * temporary files.
 *
 * @module
 */

import { type ClusterProcess, spawnLoom, stopAll } from "./cluster_procs.ts";

const T = { interval: "200", timeout: "1000" };

function log(text: string): void {
  console.log(text);
}

function follow(p: ClusterProcess): void {
  p.onLine = (line) => log(`  [${p.name}] ${line}`);
  for (const line of p.lines) log(`  [${p.name}] ${line}`);
}

/**
 * Runs the demo.
 *
 * @returns The exit status (0 on success).
 *
 * @example
 * ```ts ignore
 * Deno.exit(await runClusterDemo());
 * ```
 */
export async function runClusterDemo(): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "loom-cluster-demo-" });
  const procs: ClusterProcess[] = [];
  const started = performance.now();
  const watchdog = setTimeout(() => {
    console.error("error: the demo did not finish within 60 s");
    for (const p of procs) {
      try {
        p.child.kill("SIGKILL");
      } catch {
        // gone
      }
    }
  }, 60_000);
  let code = 0;
  try {
    const tokenFile = `${dir}/token`;
    log("1. start the seed (world 4, elastic up to 5; heartbeat timeout 1 s)");
    const seed = spawnLoom("seed", [
      "seed",
      "--world-size",
      "4",
      "--max-world-size",
      "5",
      "--listen",
      "127.0.0.1:0",
      "--token-file",
      tokenFile,
      "--heartbeat-interval",
      T.interval,
      "--heartbeat-timeout",
      T.timeout,
    ]);
    procs.push(seed);
    follow(seed);
    const listening = await seed.until(/^seed listening on /);
    const addr = listening.split(" ")[3];
    const joinArgs = [
      "join",
      "--seed",
      addr,
      "--token-file",
      tokenFile,
      "--listen",
      "127.0.0.1:0",
      "--heartbeat-interval",
      T.interval,
      "--heartbeat-timeout",
      T.timeout,
    ];
    log(
      "2. start 4 joiners: each makes its own key and CSR; the token never leaves a process",
    );
    const nodes = [1, 2, 3, 4].map((i) => spawnLoom(`node${i}`, joinArgs));
    procs.push(...nodes);
    nodes.forEach(follow);
    await seed.until(/^formed generation \d+ world 4$/);
    await Promise.all(nodes.map((n) => n.until(/^mesh ready/)));
    log(
      `   formed and meshed in ${Math.round(performance.now() - started)} ms`,
    );

    log("3. add a 5th member elastically");
    const fifth = spawnLoom("node5", joinArgs);
    procs.push(fifth);
    follow(fifth);
    await seed.until(/^changed generation \d+ world 5 joined /);
    await fifth.until(/^mesh ready/);
    await Promise.all(nodes.map((n) => n.until(/ world 5$/)));

    const victimIndex = nodes.findIndex((n) =>
      n.lines.some((l) =>
        / rank 1 world 5$/.test(l) || / rank 1 world 4 /.test(l)
      )
    );
    const victim = nodes[victimIndex >= 0 ? victimIndex : 1];
    log(`4. kill ${victim.name} (SIGKILL): the others stop hearing from it`);
    const killedAt = performance.now();
    const marks = procs.map((p) => p.lines.length);
    victim.child.kill("SIGKILL");
    const survivors = [...nodes, fifth].filter((n) => n !== victim);
    await seed.until(
      /^changed generation \d+ world 4 failed /,
      30_000,
      marks[0],
    );
    await Promise.all(
      survivors.map((n) =>
        n.until(/ world 4( |$)/, 30_000, marks[procs.indexOf(n)])
      ),
    );
    log(
      `   detected and renumbered in ${
        Math.round(performance.now() - killedAt)
      } ms`,
    );
    const ranks = survivors.map((n) => {
      const last = [...n.lines].reverse().find((l) => / world 4( |$)/.test(l))!;
      return Number(/ rank (\d+)/.exec(last)![1]);
    }).sort();
    log(`   survivor ranks: ${ranks.join(", ")} (dense, no gap)`);
    if (ranks.join() !== "0,1,2,3") code = 1;
    log("5. stop everything");
  } catch (err) {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    code = 1;
  } finally {
    for (const p of procs) p.onLine = undefined;
    await stopAll(procs);
    clearTimeout(watchdog);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  log(
    `done in ${
      Math.round(performance.now() - started)
    } ms; temporary files removed`,
  );
  return code;
}

if (import.meta.main) Deno.exit(await runClusterDemo());
