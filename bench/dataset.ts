// A Pryv-shaped dataset in source's PRYV_CONF_ROOT, on the docker test hosts: per-user
// attachment trees (core/core/data/<user>/attachments/<eventId>/<fileId>) and hfs cache
// files written on the disk, events loaded into MongoDB and series points into InfluxDB
// through their own protocols (databases.ts), so that the database files are the
// engines' own. Files are fast because each costs four syscalls (open, write, fchown,
// close) and its content is a slice of one random pool: random bytes, so neither
// rsync's nor ssh's compression makes a copy look cheaper than it is.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { defaultDataFolders } from "../config";
import { Site, TestHost, waitForCore, waitForTsmFiles } from "../testbed";
import { PRYV_UID } from "../testbed/host-files";
import { insertEvents, writeSeries } from "./databases";
import { eventCount, Profile } from "./profile";
import { startServices, stopServices } from "./snapshot";

const KiB = 1024;
const MiB = 1024 * KiB;
const POOL_BYTES = 64 * MiB;
const CHUNK_BYTES = 8 * MiB;

export interface Dataset {
    /** Regular files and their bytes, over every data folder. */
    files: number;
    bytes: number;
    /** What they take on the disk: InfluxDB's preallocated series files are mostly holes. */
    diskBytes: number;
    /** Directories under the data folders: the change journal watches each one. */
    directories: number;
    users: string[];
    /** The users with events and series (Profile.databaseUsers): the churn's and the prober's writers. */
    databaseUsers: string[];
    /** Paths relative to confRoot. */
    attachments: string[];
    /** Events ev0..ev<events-1> in MongoDB. */
    events: number;
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
    }
}

/** Sizes drawn from an exponential distribution, scaled so that they add up to total. */
export function sizes(count: number, total: number, next: () => number, minimum = 64): number[] {
    const weights = Array.from({ length: count }, () => -Math.log(1 - next()));
    const sum = weights.reduce((a, b) => a + b, 0);
    return weights.map((w) => Math.max(minimum, Math.round((w / sum) * total)));
}

function attachments(w: FastWriter, p: Profile, next: () => number, users: string[]): string[] {
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
    return files;
}

function hfs(w: FastWriter, p: Profile): void {
    w.dir("core/hfs/data/series-cache", PRYV_UID);
    for (let i = 0; i < 4; i++) w.file(`core/hfs/data/series-cache/${i}.bin`, Math.round(p.hfsBytes / 4), PRYV_UID);
}

/** Files under the data folders, their bytes and what they take on the disk (holes are free), and directories, as they are now. */
export function measureTree(confRoot: string): { files: number; bytes: number; diskBytes: number; directories: number } {
    let files = 0;
    let bytes = 0;
    let diskBytes = 0;
    let directories = 0;
    const walk = (dir: string): void => {
        directories += 1;
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(full);
            else if (entry.isFile()) {
                const stat = fs.statSync(full);
                files += 1;
                bytes += stat.size;
                diskBytes += stat.blocks * 512;
            }
        }
    };
    for (const folder of defaultDataFolders) walk(path.join(confRoot, folder));
    return { files, bytes, diskBytes, directories };
}

/**
 * Source's dataset: its data folders emptied and the files written with source stopped,
 * then source started and its databases loaded (events, then series points, waited for
 * in InfluxDB's TSM files). Files and bytes are what the disk holds at the end.
 */
export async function generateDataset(source: TestHost, site: Site, p: Profile): Promise<Dataset> {
    await stopServices(source);
    for (const folder of defaultDataFolders) {
        // What the databases created on their first start goes: the dataset replaces it.
        const full = path.join(source.confRoot, folder);
        for (const entry of fs.readdirSync(full)) fs.rmSync(path.join(full, entry), { recursive: true, force: true });
    }
    const next = random(20190604);
    const w = new FastWriter(source.confRoot, next);
    const users = Array.from({ length: p.users }, (_, i) => `benchuser${String(i + 1).padStart(5, "0")}`);
    const files = attachments(w, p, next, users);
    hfs(w, p);
    await startServices(source);
    await waitForCore(site, source);
    const events = eventCount(p);
    const databaseUsers = users.slice(0, p.databaseUsers ?? users.length);
    await insertEvents(source, databaseUsers, 0, events);
    await writeSeries(source, databaseUsers, 0, p.points);
    await waitForTsmFiles(source);
    return { ...measureTree(source.confRoot), users, databaseUsers, attachments: files, events };
}
