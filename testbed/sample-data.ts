// User data on source, shaped like a 2019 Pryv.io core's: a few large MongoDB files,
// hundreds of small attachments per user, influxdb shards, hfs files, plus the cases a
// careless copy gets wrong (a symlink, a hard-linked pair, a sparse file). Content is
// an AES-CTR keystream of the seed and the file's path: same seed, same bytes.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { MONGODB_UID, PRYV_UID } from "./host-files";

const MiB = 1024 * 1024;

export interface SampleSummary {
    files: number;
    bytes: number;
    users: string[];
}

class Writer {
    files = 0;
    bytes = 0;
    constructor(
        private readonly seed: string,
        private readonly uid: number,
        private readonly confRoot: string,
    ) {}

    private stream(rel: string, size: number): Buffer {
        const key = crypto.createHash("sha256").update(`${this.seed}\0${rel}`).digest();
        const cipher = crypto.createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
        return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
    }

    /** Creates missing parents with the same owner, as the container that wrote them would. */
    mkdir(dir: string): void {
        if (fs.existsSync(dir)) return;
        this.mkdir(path.dirname(dir));
        fs.mkdirSync(dir, { mode: 0o755 });
        fs.chownSync(dir, this.uid, this.uid);
    }

    file(file: string, size: number, content?: string): void {
        this.mkdir(path.dirname(file));
        // Keyed by the path inside PRYV_CONF_ROOT: the run folder's random name must not matter.
        const bytes = content ?? this.stream(path.relative(this.confRoot, file), Math.max(1, Math.round(size)));
        fs.writeFileSync(file, bytes, { mode: 0o644 });
        fs.chownSync(file, this.uid, this.uid);
        this.files += 1;
        this.bytes += fs.statSync(file).size;
    }
}

/** Deterministic pseudo-random numbers, so that the tree is the same on every run. */
function numbers(seed: string): () => number {
    let counter = 0;
    return () => crypto.createHash("sha256").update(`${seed}:${counter++}`).digest().readUInt32BE(0) / 0x100000000;
}

const cuid = (next: () => number): string => "c" + Array.from({ length: 24 }, () => "0123456789abcdefghijklmnopqrstuvwxyz"[Math.floor(next() * 36)]).join("");

function mongodb(dir: string, total: number, w: Writer): void {
    const big = [0.3, 0.2, 0.12].map((f, i) => [`collection-${i * 2}-8271526187263391${i}.wt`, f] as const);
    const indexes = [0.07, 0.05, 0.03].map((f, i) => [`index-${i * 2 + 1}-8271526187263391${i}.wt`, f] as const);
    for (const [name, share] of [...big, ...indexes]) w.file(`${dir}/${name}`, total * share);
    w.file(`${dir}/WiredTiger`, 0, "WiredTiger\nWiredTiger 3.1.1: (December 11, 2018)\n");
    w.file(`${dir}/WiredTiger.lock`, 0, "WiredTiger lock file\n");
    w.file(`${dir}/WiredTiger.turtle`, 0, "WiredTiger version string\nWiredTiger 3.1.1\nWiredTiger version\nmajor=3,minor=1,patch=1\n");
    w.file(`${dir}/WiredTiger.wt`, 64 * 1024);
    w.file(`${dir}/WiredTigerLAS.wt`, 4096);
    w.file(`${dir}/_mdb_catalog.wt`, 36 * 1024);
    w.file(`${dir}/sizeStorer.wt`, 36 * 1024);
    w.file(`${dir}/storage.bson`, 114);
    w.file(`${dir}/journal/WiredTigerLog.0000000003`, Math.min(total * 0.05, 2 * MiB));
    w.file(`${dir}/journal/WiredTigerPreplog.0000000001`, 64 * 1024);
    w.file(`${dir}/diagnostic.data/metrics.2019-06-04T08-12-41Z-00000`, 96 * 1024);
}

function coreData(dir: string, total: number, w: Writer, next: () => number, users: string[]): void {
    const perUser = 30;
    const average = total / (users.length * perUser);
    const firstFiles: string[][] = [];
    for (const user of users) {
        const files: string[] = [];
        for (let e = 0; e < perUser / 3; e++) {
            const event = cuid(next);
            for (let f = 0; f < 3; f++) {
                const file = `${dir}/${user}/attachments/${event}/${cuid(next)}`;
                w.file(file, average * (0.25 + 1.5 * next()));
                files.push(file);
            }
        }
        firstFiles.push(files);
    }
    // A symlink to an attachment: `--copy-links` would turn it into a second copy.
    const target = firstFiles[0][0];
    const link = `${dir}/${users[0]}/attachments/latest`;
    fs.symlinkSync(path.relative(path.dirname(link), target), link);
    fs.lchownSync(link, PRYV_UID, PRYV_UID);
    // Two names for one attachment: without -H the copy holds it twice.
    const original = firstFiles[1][0];
    fs.linkSync(original, `${path.dirname(firstFiles[1][3])}/${path.basename(original)}.shared`);
    // Mostly a hole: without --sparse the copy takes its whole size on disk.
    const sparse = `${path.dirname(firstFiles[2][0])}/sparse-attachment.bin`;
    w.file(sparse, 4096);
    fs.truncateSync(sparse, 16 * MiB);
    const fd = fs.openSync(sparse, "r+");
    fs.writeSync(fd, Buffer.from("end of a sparse attachment\n"), 0, 27, 16 * MiB - 27);
    fs.closeSync(fd);
    history(dir, w, users[3]);
}

/**
 * What years of use leave behind: a folder that once held many more attachments (its
 * directory keeps the size it grew to, a fresh copy's does not) and an attachment
 * rewritten many times. A verification that compares directory sizes fails on it.
 */
function history(dir: string, w: Writer, user: string): void {
    const event = `${dir}/${user}/attachments/history-of-deletions`;
    const names = Array.from({ length: 600 }, (_, i) => `${event}/attachment-${String(i).padStart(4, "0")}-with-a-long-name`);
    for (const name of names) w.file(name, 64);
    for (const name of names.slice(0, 450)) {
        fs.rmSync(name);
        w.files -= 1;
        w.bytes -= 64;
    }
    const rewritten = `${dir}/${user}/attachments/rewritten-many-times`;
    for (let version = 0; version < 5; version++) w.file(rewritten, 4096, `version ${version}\n`.repeat(400));
    w.files -= 4;
    w.bytes -= 4 * fs.statSync(rewritten).size;
}

function influxdb(dir: string, total: number, w: Writer, users: string[]): void {
    const shards = users.slice(0, 5).flatMap((u) => [1, 2].map((s) => [u, s] as const));
    for (const [user, shard] of shards) {
        w.file(`${dir}/data/user.${user}/autogen/${shard}/000000001-000000001.tsm`, total / shards.length);
        w.file(`${dir}/wal/user.${user}/autogen/${shard}/_00001.wal`, 2048);
    }
    w.file(`${dir}/meta/meta.db`, 1800);
}

function hfs(dir: string, total: number, w: Writer): void {
    for (let i = 0; i < 4; i++) w.file(`${dir}/series-cache/${i}.bin`, total / 4);
}

/** Writes source's user data under confRoot; the folders themselves must exist. */
export function generateSampleData(confRoot: string, sizeMiB: number, seed = "pryvmig"): SampleSummary {
    const total = sizeMiB * MiB;
    const next = numbers(seed);
    const users = Array.from({ length: 20 }, (_, i) => `testuser${String(i + 1).padStart(2, "0")}`);
    const pryv = new Writer(seed, PRYV_UID, confRoot);
    const mongo = new Writer(seed, MONGODB_UID, confRoot);
    const root = new Writer(seed, 0, confRoot);
    mongodb(`${confRoot}/core/mongodb/data`, total * 0.55, mongo);
    coreData(`${confRoot}/core/core/data`, total * 0.25, pryv, next, users);
    influxdb(`${confRoot}/core/influxdb/data`, total * 0.15, root, users);
    hfs(`${confRoot}/core/hfs/data`, total * 0.05, pryv);
    const writers = [pryv, mongo, root];
    return {
        files: writers.reduce((n, w) => n + w.files, 0),
        bytes: writers.reduce((n, w) => n + w.bytes, 0),
        users,
    };
}

/** Where a core host's rsyslog writes Pryv's audit trail: outside confRoot (HOST_PRIVATE_PATHS gives each test host its own). */
export const AUDIT_TRAIL = "/var/log/pryv/audit";
const ADM_GID = 4;

/** The audit trail as rsyslog keeps it: a log per user, owned root:adm, mode 0640 (Debian's rsyslog). */
export function generateAuditTrail(folder: string, users: string[], linesPerUser = 40): void {
    for (const user of users) {
        const dir = path.join(folder, user);
        fs.mkdirSync(dir, { recursive: true });
        const file = path.join(dir, "audit.log");
        const lines = Array.from(
            { length: linesPerUser },
            (_, i) => `2019-06-0${(i % 9) + 1}T10:00:${String(i % 60).padStart(2, "0")}Z ${user} events.get ok\n`,
        );
        fs.writeFileSync(file, lines.join(""), { mode: 0o640 });
        fs.chownSync(file, 0, ADM_GID);
    }
}
