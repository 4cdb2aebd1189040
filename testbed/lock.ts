// One set of test hosts per machine: their namespaces, addresses and links have fixed
// names. A run waits here until no live process holds the hosts, so two test runs (or a
// test run and the benchmark) started at once take turns instead of tearing each other down.
import * as fs from "fs";
import { processAlive } from "./network";
import { sleep } from "./shell";

const LOCK_FILE = "/run/lock/pryvmig-test-hosts.lock";

function holder(): number | undefined {
    try {
        const pid = Number(fs.readFileSync(LOCK_FILE, "utf8").trim());
        return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
        return undefined;
    }
}

/** Takes the machine's test hosts for this process, waiting while another live process has them. */
export async function acquireTestHosts(): Promise<void> {
    let announced = false;
    for (;;) {
        try {
            fs.mkdirSync("/run/lock", { recursive: true });
            fs.writeFileSync(LOCK_FILE, `${process.pid}\n`, { flag: "wx" });
            return;
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        }
        const pid = holder();
        if (pid === process.pid) return;
        if (pid === undefined || !processAlive(pid)) {
            fs.rmSync(LOCK_FILE, { force: true });
            continue;
        }
        if (!announced) console.error(`test hosts: in use by process ${pid}, waiting for it to finish`);
        announced = true;
        await sleep(1000);
    }
}

/** Gives the test hosts back; synchronous so that exit handlers can call it. */
export function releaseTestHosts(): void {
    if (holder() === process.pid) fs.rmSync(LOCK_FILE, { force: true });
}
