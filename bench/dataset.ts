// Writes a Pryv-shaped dataset into source's PRYV_CONF_ROOT: per-user attachment trees
// (core/core/data/<user>/attachments/<eventId>/<fileId>), a few large WiredTiger-like
// files owned by mongodb's uid, influxdb shards and WAL files, hfs cache files.
// Fast because every file costs four syscalls (open, write, fchown, close) and its
// content is a slice of one random pool: random bytes, so neither rsync's nor ssh's
// compression makes a copy look cheaper than it is.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { MONGODB_UID, PRYV_UID } from "../testbed/host-files";
import { Profile } from "./profile";

const KiB = 1024;
const MiB = 1024 * KiB;
const POOL_BYTES = 64 * MiB;
const CHUNK_BYTES = 8 * MiB;
/** Folders under confRoot that hold user data, as the program's default dataFolders. */
export const DATA_FOLDERS = ["core/mongodb/data", "core/core/data", "core/influxdb/data", "core/hfs/data"];

export interface Dataset {
    /** Regular files and their bytes, over every data folder. */
    files: number;
    bytes: number;
    users: string[];
    /** Paths relative to confRoot. */
    attachments: string[];
    databaseFiles: string[];
    seriesFiles: string[];
    /** User folders whose attachments folder once held many more entries. */
    foldersWithHistory: string[];
}

/** Seeded, so two runs of a profile lay out the same tree (the bytes differ). */
export function random(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";
export const cuid = (next: () => number): string => "c" + Array.from({ length: 24 }, () => ALPHABET[Math.floor(next() * 36)]).join("");

export class FastWriter {
    files = 0;
    bytes = 0;
    private readonly pool = crypto.randomFillSync(Buffer.alloc(POOL_BYTES));
    private readonly chunk = Buffer.alloc(CHUNK_BYTES);

    constructor(
        readonly confRoot: string,
        private readonly next: () => number,
    ) {}

    /** One folder whose parent exists, owned like the container that made it. */
    dir(rel: string, uid: number): void {
        const full = path.join(this.confRoot, rel);
        fs.mkdirSync(full, { mode: 0o755 });
        fs.chownSync(full, uid, uid);
    }

    file(rel: string, size: number, uid: number): void {
        const fd = fs.openSync(path.join(this.confRoot, rel), "w", 0o644);
        try {
            if (size <= POOL_BYTES / 4) {
                fs.writeSync(fd, this.pool, Math.floor(this.next() * (POOL_BYTES - size)), size);
            } else {
                // Large files get fresh bytes: a repeated pool would let rsync match blocks across them.
                for (let written = 0; written < size; written += CHUNK_BYTES) {
                    crypto.randomFillSync(this.chunk);
                    fs.writeSync(fd, this.chunk, 0, Math.min(CHUNK_BYTES, size - written));
                }
            }
            fs.fchownSync(fd, uid, uid);
        } finally {
            fs.closeSync(fd);
        }
        this.files += 1;
        this.bytes += size;
    }
}

/** Sizes drawn from an exponential distribution, scaled so that they add up to total. */
export function sizes(count: number, total: number, next: () => number, minimum = 64): number[] {
    const weights = Array.from({ length: count }, () => -Math.log(1 - next()));
    const sum = weights.reduce((a, b) => a + b, 0);
    return weights.map((w) => Math.max(minimum, Math.round((w / sum) * total)));
}

function attachments(w: FastWriter, p: Profile, next: () => number, users: string[]): { files: string[]; history: string[] } {
    // A few heavy users and a long tail, as on a real core.
    const weights = users.map((_, rank) => 1 / Math.pow(rank + 1, 0.7));
    const weightSum = weights.reduce((a, b) => a + b, 0);
    const perUser = weights.map((weight) => Math.max(1, Math.round((weight / weightSum) * p.attachments)));
    perUser[0] += p.attachments - perUser.reduce((a, b) => a + b, 0);
    const fileSizes = sizes(p.attachments, p.attachmentBytes, next);
    const files: string[] = [];
    users.forEach((user, u) => {
        const base = `core/core/data/${user}`;
        w.dir(base, PRYV_UID);
        w.dir(`${base}/attachments`, PRYV_UID);
        let left = perUser[u];
        while (left > 0) {
            const event = `${base}/attachments/${cuid(next)}`;
            w.dir(event, PRYV_UID);
            for (let f = Math.min(left, 1 + Math.floor(next() * 3)); f > 0; f--, left--) {
                const file = `${event}/${cuid(next)}`;
                w.file(file, fileSizes[files.length], PRYV_UID);
                files.push(file);
            }
        }
    });
    // Directories do not shrink when entries go: some folders keep the size of a past
    // with many more events, which a copy does not reproduce (nor needs to).
    const history = users.filter((_, u) => u % 20 === 7 || u === 0).map((user) => `core/core/data/${user}/attachments`);
    for (const folder of history) {
        const gone = Array.from({ length: 1500 }, () => path.join(w.confRoot, folder, `${cuid(next)}-deleted-event`));
        for (const dir of gone) fs.mkdirSync(dir);
        for (const dir of gone) fs.rmdirSync(dir);
    }
    return { files, history };
}

function database(w: FastWriter, p: Profile, next: () => number): string[] {
    const dir = "core/mongodb/data";
    for (const sub of ["journal", "diagnostic.data"]) w.dir(`${dir}/${sub}`, MONGODB_UID);
    // Collections and their indexes, each a whole number of 4 KiB pages.
    const shares = sizes(p.databaseFiles, p.databaseBytes, next, 64 * KiB);
    const files = shares.map((_, i) => `${dir}/${i % 2 === 0 ? "collection" : "index"}-${i}-${Math.floor(next() * 1e15)}.wt`);
    files.forEach((file, i) => w.file(file, Math.ceil(shares[i] / (4 * KiB)) * 4 * KiB, MONGODB_UID));
    const small: [string, number][] = [
        ["WiredTiger", 50],
        ["WiredTiger.lock", 21],
        ["WiredTiger.turtle", 1200],
        ["WiredTiger.wt", 64 * KiB],
        ["WiredTigerLAS.wt", 4 * KiB],
        ["_mdb_catalog.wt", 36 * KiB],
        ["sizeStorer.wt", 36 * KiB],
        ["storage.bson", 114],
        ["journal/WiredTigerLog.0000000003", Math.min(100 * MiB, Math.round(p.databaseBytes / 100))],
        ["journal/WiredTigerPreplog.0000000001", 64 * KiB],
        ["diagnostic.data/metrics.2019-06-04T08-12-41Z-00000", 96 * KiB],
    ];
    for (const [name, size] of small) w.file(`${dir}/${name}`, size, MONGODB_UID);
    return files;
}

function mkdirs(w: FastWriter, rel: string, uid: number): void {
    if (fs.existsSync(path.join(w.confRoot, rel))) return;
    mkdirs(w, path.dirname(rel), uid);
    w.dir(rel, uid);
}

function series(w: FastWriter, p: Profile, next: () => number, users: string[]): string[] {
    const root = "core/influxdb/data";
    const shardSizes = sizes(p.seriesFiles, p.seriesBytes, next, 4 * KiB);
    const files: string[] = [];
    shardSizes.forEach((size, i) => {
        const db = `user.${users[i % users.length]}`;
        const shard = 1 + Math.floor(i / users.length);
        const tsm = `${root}/data/${db}/autogen/${shard}`;
        const wal = `${root}/wal/${db}/autogen/${shard}`;
        mkdirs(w, tsm, 0);
        mkdirs(w, wal, 0);
        w.file(`${tsm}/000000001-000000001.tsm`, size, 0);
        w.file(`${wal}/_00001.wal`, 2 * KiB + Math.floor(next() * 30 * KiB), 0);
        files.push(`${tsm}/000000001-000000001.tsm`, `${wal}/_00001.wal`);
    });
    mkdirs(w, `${root}/meta`, 0);
    w.file(`${root}/meta/meta.db`, 1800, 0);
    return files;
}

function hfs(w: FastWriter, p: Profile): void {
    w.dir("core/hfs/data/series-cache", PRYV_UID);
    for (let i = 0; i < 4; i++) w.file(`core/hfs/data/series-cache/${i}.bin`, Math.round(p.hfsBytes / 4), PRYV_UID);
}

/** Writes the profile's dataset under confRoot, whose data folders exist and are empty (source stopped). */
export function generateDataset(confRoot: string, p: Profile): Dataset {
    for (const folder of DATA_FOLDERS) {
        // What the database stand-in created on its first start goes: the dataset replaces it.
        const full = path.join(confRoot, folder);
        for (const entry of fs.readdirSync(full)) fs.rmSync(path.join(full, entry), { recursive: true, force: true });
    }
    const next = random(20190604);
    const w = new FastWriter(confRoot, next);
    const users = Array.from({ length: p.users }, (_, i) => `benchuser${String(i + 1).padStart(5, "0")}`);
    const { files, history } = attachments(w, p, next, users);
    const databaseFiles = database(w, p, next);
    const seriesFiles = series(w, p, next, users);
    hfs(w, p);
    return { files: w.files, bytes: w.bytes, users, attachments: files, databaseFiles, seriesFiles, foldersWithHistory: history };
}
