// What a live core changes between the warm round and the cutover: attachments added
// and deleted, database pages rewritten in place (sizes kept, as WiredTiger does),
// series files growing at their end. Every changed byte range is recorded, so that the
// floor can copy exactly those bytes and nothing else.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { PRYV_UID } from "../testbed/host-files";
import { cuid, Dataset, FastWriter, random, sizes } from "./dataset";
import { Profile } from "./profile";

const KiB = 1024;
const GRANULE = 4 * KiB;

/** A byte range of a file under confRoot that the churn wrote; `create`: the file (or folder) is new. */
export interface Change {
    path: string;
    offset: number;
    length: number;
    create?: { uid: number; mode: number };
}

export interface ChurnRecord {
    /** New folders, parents first. */
    createdDirs: { path: string; uid: number }[];
    changes: Change[];
    deletedFiles: string[];
    /** Folders that the deletions left empty and that went with them. */
    deletedDirs: string[];
    newFileBytes: number;
    rewrittenBytes: number;
    appendedBytes: number;
    churnBytes: number;
}

function newAttachments(w: FastWriter, dataset: Dataset, p: Profile, next: () => number, record: ChurnRecord): void {
    const average = p.attachmentBytes / p.attachments;
    const fileSizes = sizes(p.churn.newAttachments, average * p.churn.newAttachments, next);
    let made = 0;
    while (made < fileSizes.length) {
        const user = dataset.users[Math.floor(next() * dataset.users.length)];
        const event = `core/core/data/${user}/attachments/${cuid(next)}`;
        w.dir(event, PRYV_UID);
        record.createdDirs.push({ path: event, uid: PRYV_UID });
        for (let f = Math.min(fileSizes.length - made, 1 + Math.floor(next() * 2)); f > 0; f--, made++) {
            const file = `${event}/${cuid(next)}`;
            w.file(file, fileSizes[made], PRYV_UID);
            record.changes.push({ path: file, offset: 0, length: fileSizes[made], create: { uid: PRYV_UID, mode: 0o644 } });
            record.newFileBytes += fileSizes[made];
        }
    }
}

function deleteAttachments(confRoot: string, dataset: Dataset, count: number, next: () => number, record: ChurnRecord): void {
    const chosen = new Set<string>();
    while (chosen.size < Math.min(count, dataset.attachments.length)) chosen.add(dataset.attachments[Math.floor(next() * dataset.attachments.length)]);
    for (const file of chosen) {
        fs.rmSync(path.join(confRoot, file));
        record.deletedFiles.push(file);
        // Core removes an event's attachment folder with its last file.
        const event = path.dirname(file);
        if (fs.readdirSync(path.join(confRoot, event)).length === 0) {
            fs.rmdirSync(path.join(confRoot, event));
            record.deletedDirs.push(event);
        }
    }
    dataset.attachments = dataset.attachments.filter((file) => !chosen.has(file));
}

/** Pages of 4 KiB (most) or 32 KiB, aligned, never overlapping, chosen in proportion to file sizes. */
function rewritePages(confRoot: string, dataset: Dataset, count: number, next: () => number, record: ChurnRecord): void {
    const files = dataset.databaseFiles.map((file) => ({ file, size: fs.statSync(path.join(confRoot, file)).size }));
    const total = files.reduce((sum, f) => sum + f.size, 0);
    const taken = new Set<string>();
    const fds = new Map<string, number>();
    try {
        for (let i = 0, attempts = 0; i < count && attempts < count * 20; attempts++) {
            let pick = next() * total;
            const target = files.find((f) => (pick -= f.size) < 0) ?? files[files.length - 1];
            const length = next() < 0.7 ? 4 * KiB : 32 * KiB;
            if (target.size < length) continue;
            const offset = Math.floor(next() * Math.floor(target.size / length)) * length;
            const granules = Array.from({ length: length / GRANULE }, (_, g) => `${target.file}:${offset / GRANULE + g}`);
            if (granules.some((g) => taken.has(g))) continue;
            granules.forEach((g) => taken.add(g));
            let fd = fds.get(target.file);
            if (fd === undefined) {
                fd = fs.openSync(path.join(confRoot, target.file), "r+");
                fds.set(target.file, fd);
            }
            fs.writeSync(fd, crypto.randomBytes(length), 0, length, offset);
            record.changes.push({ path: target.file, offset, length });
            record.rewrittenBytes += length;
            i++;
        }
    } finally {
        for (const fd of fds.values()) fs.closeSync(fd);
    }
}

/** Series grow at their end: half of the shards (TSM and WAL files) get the appended bytes. */
function appendSeries(confRoot: string, dataset: Dataset, bytes: number, next: () => number, record: ChurnRecord): void {
    const growing = dataset.seriesFiles.filter(() => next() < 0.5);
    if (growing.length === 0) growing.push(dataset.seriesFiles[0]);
    const amounts = sizes(growing.length, bytes, next, 1);
    growing.forEach((file, i) => {
        const full = path.join(confRoot, file);
        const offset = fs.statSync(full).size;
        fs.appendFileSync(full, crypto.randomBytes(amounts[i]));
        record.changes.push({ path: file, offset, length: amounts[i] });
        record.appendedBytes += amounts[i];
    });
}

/** Changes source's data as a live core would, and returns what changed. */
export function churn(confRoot: string, dataset: Dataset, p: Profile): ChurnRecord {
    const next = random(42);
    const record: ChurnRecord = {
        createdDirs: [],
        changes: [],
        deletedFiles: [],
        deletedDirs: [],
        newFileBytes: 0,
        rewrittenBytes: 0,
        appendedBytes: 0,
        churnBytes: 0,
    };
    deleteAttachments(confRoot, dataset, p.churn.deletedAttachments, next, record);
    newAttachments(new FastWriter(confRoot, next), dataset, p, next, record);
    rewritePages(confRoot, dataset, p.churn.rewrittenPages, next, record);
    appendSeries(confRoot, dataset, p.churn.appendedSeriesBytes, next, record);
    record.churnBytes = record.newFileBytes + record.rewrittenBytes + record.appendedBytes;
    return record;
}
