// One cutover method under the prober: source checked serving, probes and writes
// started, the method run, probes kept going until users have been served again for a
// second, then every acknowledged write looked up on dest, which serves from now on.
import { containerStates, TestHosts } from "../testbed";
import { sleep } from "../testbed/shell";
import { eventIdsHeld } from "../testbed/migration/observe";
import { missingWrites, Prober, ProberTarget, untilServedBy } from "./prober";
import { MethodFigures } from "./report";

const LEAD_IN_MS = 1500;
const RECOVERY_TIMEOUT_MS = 120_000;

export async function measureCutover<T>(
    label: string,
    hosts: TestHosts,
    target: ProberTarget,
    users: string[],
    method: () => Promise<T>,
    /** A method that reports its failure in what it returns (the program's failed update keeps its steps). */
    failureOf: (detail: T) => string | undefined = () => undefined,
): Promise<MethodFigures<T>> {
    await untilServedBy(target, "source", 60_000);
    const prober = new Prober(target, users, label);
    prober.start();
    let detail: T | undefined;
    let error: string | undefined;
    try {
        await sleep(LEAD_IN_MS);
        const startedAt = Date.now();
        try {
            detail = await method();
            error = failureOf(detail);
        } catch (e) {
            error = e instanceof Error ? e.message : String(e);
        }
        // A method that failed may still have left users served (by dest): the outage is measured either way.
        const recovered = await prober.healthySince(startedAt, 10, error === undefined ? RECOVERY_TIMEOUT_MS : 20_000);
        if (!recovered && error === undefined) error = `users not served again within ${RECOVERY_TIMEOUT_MS / 1000} s`;
    } finally {
        await prober.stop();
    }
    const outage = prober.outage();
    const { dest } = hosts.hosts;
    let missing: string[];
    try {
        missing = (await missingWrites(prober.writes, (user) => eventIdsHeld(dest, user))).map((w) => `${w.user}/${w.id}`);
    } catch (e) {
        // Not one write can be shown to be on dest: every one counts as missing.
        missing = prober.writes.map((w) => `${w.user}/${w.id}`);
        const states = await containerStates(dest).catch((stateError: Error) => [stateError.message]);
        error ??= `dest's database could not be read (${e instanceof Error ? e.message : String(e)}); dest's containers: ${states.join(", ")}`;
    }
    const lastServed = [...prober.probes].sort((a, b) => a.sentAt - b.sentAt).at(-1)?.machine;
    if (error === undefined && lastServed !== "dest") error = `at the end, source's address is served by ${lastServed ?? "nobody"}, not dest`;
    if (error === undefined && !Number.isFinite(outage.seconds)) error = "the outage never ended";
    return { downtimeSeconds: outage.seconds, outage, ackedWrites: prober.writes.length, missingWrites: missing, detail, error };
}
