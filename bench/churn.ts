// What a live core changes between the warm round and the cutover, while source serves:
// attachments added and deleted on its disk, events inserted, rewritten and deleted in
// MongoDB, series points written to InfluxDB (new blocks in its WAL and TSM files, and
// the compactions that follow). What the databases make of it on their disk is theirs:
// the floor finds the changed bytes by comparing the stopped files with dest's copy.
import * as fs from "fs";
import * as path from "path";
import { TestHost } from "../testbed";
import { PRYV_UID } from "../testbed/host-files";
import { deleteEvents, insertEvents, rewriteEvents, writeSeries } from "./databases";
import { cuid, Dataset, FastWriter, random, sizes } from "./dataset";
import { Profile } from "./profile";

export interface ChurnRecord {
    newAttachments: number;
    newAttachmentBytes: number;
    deletedAttachments: number;
    newEvents: number;
    rewrittenEvents: number;
    deletedEvents: number;
    newPoints: number;
}

function newAttachments(w: FastWriter, dataset: Dataset, p: Profile, next: () => number): number {
    const average = p.attachmentBytes / p.attachments;
    const fileSizes = sizes(p.churn.newAttachments, average * p.churn.newAttachments, next);
    let made = 0;
    while (made < fileSizes.length) {
        const user = dataset.users[Math.floor(next() * dataset.users.length)];
        const event = `core/core/data/${user}/attachments/${cuid(next)}`;
        w.dir(event, PRYV_UID);
        for (let f = Math.min(fileSizes.length - made, 1 + Math.floor(next() * 2)); f > 0; f--, made++) {
            w.file(`${event}/${cuid(next)}`, fileSizes[made], PRYV_UID);
        }
    }
    return fileSizes.reduce((a, b) => a + b, 0);
}

function deleteAttachments(confRoot: string, dataset: Dataset, count: number, next: () => number): number {
    const chosen = new Set<string>();
    while (chosen.size < Math.min(count, dataset.attachments.length)) chosen.add(dataset.attachments[Math.floor(next() * dataset.attachments.length)]);
    for (const file of chosen) {
        fs.rmSync(path.join(confRoot, file));
        // Core removes an event's attachment folder with its last file.
        const event = path.join(confRoot, path.dirname(file));
        if (fs.readdirSync(event).length === 0) fs.rmdirSync(event);
    }
    dataset.attachments = dataset.attachments.filter((file) => !chosen.has(file));
    return chosen.size;
}

/** `count` distinct numbers below `below`, none of `taken`. */
function pick(count: number, below: number, next: () => number, taken = new Set<number>()): number[] {
    const chosen = new Set<number>();
    while (chosen.size < Math.min(count, below - taken.size)) {
        const n = Math.floor(next() * below);
        if (!taken.has(n)) chosen.add(n);
    }
    return [...chosen];
}

/** Changes source's data as a live core would, and says what it did. */
export async function churn(source: TestHost, dataset: Dataset, p: Profile): Promise<ChurnRecord> {
    const next = random(42);
    const deletedAttachments = deleteAttachments(source.confRoot, dataset, p.churn.deletedAttachments, next);
    const newAttachmentBytes = newAttachments(new FastWriter(source.confRoot, next), dataset, p, next);
    const rewritten = pick(p.churn.updatedEvents, dataset.events, next);
    const deleted = pick(p.churn.deletedEvents, dataset.events, next, new Set(rewritten));
    const { databaseUsers } = dataset;
    await insertEvents(source, databaseUsers, dataset.events, p.churn.newEvents);
    await rewriteEvents(source, databaseUsers, rewritten);
    await deleteEvents(source, databaseUsers, deleted);
    await writeSeries(source, databaseUsers, Math.ceil(p.points / databaseUsers.length), p.churn.newPoints);
    return {
        newAttachments: p.churn.newAttachments,
        newAttachmentBytes,
        deletedAttachments,
        newEvents: p.churn.newEvents,
        rewrittenEvents: rewritten.length,
        deletedEvents: deleted.length,
        newPoints: p.churn.newPoints,
    };
}
