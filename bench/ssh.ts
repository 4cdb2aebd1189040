// What the operator (and one machine reaching the other) types: ssh with the test
// hosts' operator key and their pinned host keys. Commands that stand for an operator's
// steps go through sshd, as they would on real machines, so their cost is counted.
import { sshArgs, TestHost, TestHosts } from "../testbed";
import { run, RunResult, shq } from "../testbed/shell";

/** `script` run by bash on `host` through its sshd, from the root namespace; sshd hands it to the login shell as one word. */
export async function overSsh(hosts: TestHosts, host: TestHost, script: string): Promise<RunResult> {
    const r = await run("ssh", [...sshArgs(hosts, host), `set -euo pipefail\n${script}`]);
    if (r.code !== 0) throw new Error(`${host.name} (ssh): ${script.split("\n")[0]} exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
    return r;
}

/** The ssh command line, for a script on one host that reaches `peer` (operator key, pinned host keys). */
export const sshCommand = (hosts: TestHosts, peer: TestHost): string => ["ssh", ...sshArgs(hosts, peer)].map(shq).join(" ");

/** The `-e` of an rsync that reaches `peer`: everything of sshCommand but the destination. */
export const rsyncShell = (hosts: TestHosts, peer: TestHost): string => ["ssh", ...sshArgs(hosts, peer).slice(0, -1)].join(" ");

export const since = (startedAt: number): number => Math.round(Date.now() - startedAt) / 1000;
