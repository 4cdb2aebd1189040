// What users do to source while a migration runs on the docker test hosts: events,
// series points and attachments written through source's address and retried until
// acknowledged, and attachment files changed on source's disk as a serving core does.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { AUDIT_TRAIL, SeriesPoints, TestHost, TestHosts } from "..";
import { httpsRequest, HttpsResponse } from "../checks";
import { PRYV_UID } from "../host-files";
import { sleep } from "../shell";

/** The users the workload writes as. */
export const USERS = ["alice", "bob"];
/** The series every user's points go to: event <user>-live. */
export const LIVE_SERIES = "live";
const WEEK = 7 * 86400;
/** How long a prober keeps retrying one write: the cold window, and the rollback's, are shorter. */
const WRITE_DEADLINE_MS = 240_000;

export interface Ack {
    user: string;
    /** Which machine's core acknowledged it (through source's address). */
    by: string;
}
export interface EventAck extends Ack {
    id: string;
}
export interface PointAck extends Ack {
    point: [number, number];
}
export interface AttachmentAck extends Ack {
    eventId: string;
    name: string;
    content: string;
}

/**
 * What users do while the migration runs: through source's address, events, series
 * points (a new InfluxDB shard every 40 iterations, so that older ones go cold and
 * InfluxDB writes TSM files and drops WAL segments during the copies) and attachments;
 * a write that fails is retried until acknowledged. While `churn` is set, attachment
 * files are also created, rewritten, renamed and deleted on source's disk directly, as
 * the core does (only while source serves: a stopped core writes nothing).
 */
export class Workload {
    readonly events: EventAck[] = [];
    readonly points: PointAck[] = [];
    readonly attachments: AttachmentAck[] = [];
    /** Answers other than the acknowledgement, by status (0: no HTTP answer), with Retry-After seen on 503s. */
    readonly failures = new Map<number, number>();
    retryAfterOn503 = 0;
    churned = { created: 0, rewritten: 0, renamed: 0, deleted: 0 };
    churn = false;
    error: Error | undefined;
    private running = false;
    private loop: Promise<void> | undefined;
    private iteration = 0;

    constructor(
        private readonly hosts: TestHosts,
        private readonly through: TestHost,
    ) {}

    start(): void {
        this.running = true;
        this.loop = this.run().catch((e: Error) => {
            this.error = e;
        });
    }

    async stop(): Promise<void> {
        this.running = false;
        this.churn = false;
        await this.loop;
        this.assertHealthy();
    }

    assertHealthy(): void {
        if (this.error) throw new Error(`the workload stopped: ${this.error.message}`);
    }

    /** A snapshot of what is acknowledged so far. */
    acknowledged(): { events: EventAck[]; points: PointAck[]; attachments: AttachmentAck[] } {
        return { events: [...this.events], points: [...this.points], attachments: [...this.attachments] };
    }

    private async write(what: string, user: string, urlPath: string, body: string): Promise<string> {
        const deadline = Date.now() + WRITE_DEADLINE_MS;
        let last: HttpsResponse | undefined;
        while (Date.now() < deadline) {
            last = await httpsRequest("root", this.through.ip, `${user}.${this.hosts.domain}`, urlPath, "POST", body);
            if (last.status === 201) return (JSON.parse(last.body) as { machine: string }).machine;
            this.failures.set(last.status, (this.failures.get(last.status) ?? 0) + 1);
            if (last.status === 503 && last.headers["retry-after"] !== undefined) this.retryAfterOn503++;
            await sleep(200);
        }
        throw new Error(`${what} not acknowledged within ${WRITE_DEADLINE_MS} ms: ${last?.status} ${last?.error ?? last?.body.slice(0, 300)}`);
    }

    private async run(): Promise<void> {
        while (this.running) {
            const i = this.iteration++;
            for (const user of USERS) {
                const id = `${user}-w${i}`;
                const by = await this.write(
                    `event ${id}`,
                    user,
                    "/events",
                    JSON.stringify({ id, streamId: "diary", type: "note/txt", content: `${user} ${i}` }),
                );
                this.events.push({ user, id, by });
                const point: [number, number] = [1560000000 + Math.floor(i / 40) * WEEK + i, i];
                const series: SeriesPoints = { fields: ["timestamp", "value"], points: [point] };
                this.points.push({
                    user,
                    point,
                    by: await this.write(`point ${i} of ${user}`, user, `/events/${user}-${LIVE_SERIES}/series`, JSON.stringify(series)),
                });
                if (i % 5 === 0) {
                    const name = `note-${i}.txt`;
                    const content = `attachment ${i} of ${user}`;
                    const at = await this.write(`attachment ${name} of ${user}`, user, `/events/${id}/attachments?name=${name}`, content);
                    this.attachments.push({ user, eventId: id, name, content, by: at });
                }
            }
            if (this.churn) this.churnFiles(i);
            await sleep(20);
        }
    }

    /** Attachment files of a user of source's sample data, changed in place as a serving core does; the audit trail grows as rsyslog writes it. */
    private churnFiles(i: number): void {
        const audit = path.join(this.through.pathOnHost(AUDIT_TRAIL), "churnuser", "audit.log");
        fs.mkdirSync(path.dirname(audit), { recursive: true });
        fs.appendFileSync(audit, `${new Date().toISOString()} churnuser events.create ok ${i}\n`);
        const folder = `${this.through.servicesFolder}/core/data/churnuser/attachments`;
        if (!fs.existsSync(folder)) {
            fs.mkdirSync(folder, { recursive: true });
            for (const dir of [path.dirname(folder), folder]) fs.chownSync(dir, PRYV_UID, PRYV_UID);
        }
        const file = (prefix: string, n: number) => path.join(folder, `${prefix}${n}`);
        for (let k = 0; k < 4; k++) {
            const n = i * 4 + k;
            fs.writeFileSync(file("f", n), crypto.randomBytes(2048 + 64 * k));
            fs.chownSync(file("f", n), PRYV_UID, PRYV_UID);
            this.churned.created++;
            if (fs.existsSync(file("f", n - 4))) {
                fs.appendFileSync(file("f", n - 4), crypto.randomBytes(512));
                this.churned.rewritten++;
            }
            if (fs.existsSync(file("f", n - 8))) {
                fs.renameSync(file("f", n - 8), file("r", n - 8));
                this.churned.renamed++;
            }
            if (fs.existsSync(file("r", n - 16))) {
                fs.unlinkSync(file("r", n - 16));
                this.churned.deleted++;
            }
        }
    }
}
