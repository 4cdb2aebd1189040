// The users' view of a cutover, from outside (the root namespace, as the internet sees
// source's address): an HTTPS GET every 100 ms and an event written every second, each
// write retried until it is acknowledged. A new connection per request (no keep-alive),
// so that a stopped nginx shows at once instead of hiding behind a pooled socket.
import * as https from "https";
import { sleep } from "../testbed/shell";

export interface ProberTarget {
    ip: string;
    domain: string;
    subdomain: string;
    ca: string;
}

export interface Probe {
    sentAt: number;
    doneAt: number;
    status: number;
    /** Which machine's core stand-in answered (fixture's JSON), when one did. */
    machine?: string;
    error?: string;
}

export interface AckedWrite {
    user: string;
    id: string;
    ackedAt: number;
    attempts: number;
}

export interface Outage {
    /** First failed probe (sent) to the first success after it (answered), in seconds; 0 without failure. */
    seconds: number;
    startedAt?: number;
    endedAt?: number;
    /** Failure windows; more than one means users saw the service come and go. */
    windows: { from: number; to: number }[];
    failedProbes: number;
    probes: number;
    servedBy: Record<string, number>;
}

interface Answer {
    status: number;
    body: string;
    error?: string;
}

function request(target: ProberTarget, host: string, method: string, urlPath: string, timeoutMs: number, body?: string): Promise<Answer> {
    return new Promise((resolve) => {
        let settled = false;
        const done = (answer: Answer): void => {
            if (!settled) resolve(answer);
            settled = true;
        };
        const req = https.request(
            {
                host: target.ip,
                port: 443,
                method,
                path: urlPath,
                servername: host,
                ca: target.ca,
                agent: false,
                timeout: timeoutMs,
                headers: { Host: host, ...(body === undefined ? {} : { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) }) },
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
                res.on("error", (e: Error) => done({ status: 0, body: "", error: e.message }));
            },
        );
        req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on("error", (e: Error) => done({ status: 0, body: "", error: e.message }));
        req.end(body);
    });
}

const machineOf = (body: string): string | undefined => {
    try {
        return (JSON.parse(body) as { machine?: string }).machine;
    } catch {
        return undefined;
    }
};

/** Polls one address every `intervalMs` until `machine` answers through it; the seconds it took. */
export async function untilServedBy(target: ProberTarget, machine: string, timeoutMs: number, intervalMs = 20): Promise<number> {
    const started = Date.now();
    const host = `${target.subdomain}.${target.domain}`;
    for (;;) {
        const answer = await request(target, host, "GET", "/reg/service/info", 1000);
        if (answer.status === 200 && machineOf(answer.body) === machine) return (Date.now() - started) / 1000;
        if (Date.now() - started > timeoutMs)
            throw new Error(`${machine} not answering at ${target.ip} after ${timeoutMs} ms: ${answer.error ?? answer.status}`);
        await sleep(intervalMs);
    }
}

export class Prober {
    readonly probes: Probe[] = [];
    readonly writes: AckedWrite[] = [];
    private running = false;
    private loops: Promise<void>[] = [];
    private inFlight = new Set<Promise<void>>();

    constructor(
        private readonly target: ProberTarget,
        private readonly users: string[],
        private readonly label: string,
        private readonly intervalMs = 100,
        private readonly writeEveryMs = 1000,
        // A slow answer is still an answer: users wait seconds, not 100 ms, before they call it an outage.
        private readonly timeoutMs = 5000,
    ) {}

    start(): void {
        this.running = true;
        this.loops = [this.probeLoop(), this.writeLoop()];
    }

    /** Stops sending; waits for the requests under way and for a write being retried to be acknowledged. */
    async stop(): Promise<void> {
        this.running = false;
        await Promise.all(this.loops);
        await Promise.all([...this.inFlight]);
    }

    /** Resolves once `count` probes in a row succeeded, all sent after `after`. */
    async healthySince(after: number, count: number, timeoutMs: number): Promise<boolean> {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
            const recent = this.probes.filter((p) => p.sentAt >= after).sort((a, b) => a.sentAt - b.sentAt);
            const tail = recent.slice(-count);
            if (tail.length === count && tail.every((p) => p.status === 200)) return true;
            await sleep(this.intervalMs);
        }
        return false;
    }

    outage(): Outage {
        const sorted = [...this.probes].sort((a, b) => a.sentAt - b.sentAt);
        const windows: { from: number; to: number }[] = [];
        let open: number | undefined;
        for (const probe of sorted) {
            const ok = probe.status === 200;
            if (!ok && open === undefined) open = probe.sentAt;
            if (ok && open !== undefined) {
                windows.push({ from: open, to: probe.doneAt });
                open = undefined;
            }
        }
        if (open !== undefined) windows.push({ from: open, to: Number.NaN });
        const servedBy: Record<string, number> = {};
        for (const probe of sorted) {
            const who = probe.machine ?? (probe.status === 0 ? "no answer" : `status ${probe.status}`);
            servedBy[who] = (servedBy[who] ?? 0) + 1;
        }
        const first = windows[0];
        return {
            seconds: first === undefined ? 0 : (first.to - first.from) / 1000,
            startedAt: first?.from,
            endedAt: first?.to,
            windows,
            failedProbes: sorted.filter((p) => p.status !== 200).length,
            probes: sorted.length,
            servedBy,
        };
    }

    private async probeLoop(): Promise<void> {
        const host = `${this.target.subdomain}.${this.target.domain}`;
        for (let next = Date.now(); this.running; next += this.intervalMs) {
            const sentAt = Date.now();
            // Not awaited: a probe that hangs must not delay the next one.
            const probe = request(this.target, host, "GET", "/reg/service/info", this.timeoutMs).then((answer) => {
                this.probes.push({ sentAt, doneAt: Date.now(), status: answer.status, machine: machineOf(answer.body), error: answer.error });
            });
            this.track(probe);
            await sleep(Math.max(0, next + this.intervalMs - Date.now()));
        }
    }

    private async writeLoop(): Promise<void> {
        for (let n = 0; this.running; n++) {
            const started = Date.now();
            const user = this.users[n % this.users.length];
            const id = `${this.label}-${n}-${started}`;
            const write = this.writeUntilAcknowledged(user, id);
            this.track(write);
            await write;
            await sleep(Math.max(0, started + this.writeEveryMs - Date.now()));
        }
    }

    /** Retried every 100 ms, and past stop() too: a write the prober gave up on would not be a user's. */
    private async writeUntilAcknowledged(user: string, id: string): Promise<void> {
        const host = `${user}.${this.target.domain}`;
        const deadline = Date.now() + 120_000;
        for (let attempts = 1; Date.now() < deadline; attempts++) {
            const answer = await request(this.target, host, "POST", `/${user}/events`, this.timeoutMs * 2, JSON.stringify({ id }));
            if (answer.status === 201) {
                this.writes.push({ user, id, ackedAt: Date.now(), attempts });
                return;
            }
            await sleep(this.intervalMs);
        }
    }

    private track(work: Promise<void>): void {
        this.inFlight.add(work);
        void work.finally(() => this.inFlight.delete(work));
    }
}

/** Acknowledged writes absent from what the serving machine holds: `heldIds` gives the ids of a user's events there. */
export async function missingWrites(writes: AckedWrite[], heldIds: (user: string) => Promise<Set<string>>): Promise<AckedWrite[]> {
    const held = new Map<string, Set<string>>();
    for (const user of new Set(writes.map((w) => w.user))) held.set(user, await heldIds(user));
    return writes.filter((w) => !held.get(w.user)?.has(w.id));
}
