// What makes one tree byte-for-byte another, at the granularity of a database page: the
// floor's list of exactly the bytes that changed. Both trees are read from this
// machine's side (the test hosts' folders are on its filesystem), with both cores
// stopped; nothing is sent, so the comparison is not part of the floor's time. A file
// of the same size and modification time (to the nanosecond) on both sides is taken as
// unchanged, as rsync's quick check takes it: dest's copy carries source's times, a
// write changes them, and reading every file whole would read InfluxDB's preallocated
// series files (16 GiB of holes at 500 users) on both sides.
import * as fs from "fs";
import * as path from "path";

/** An entry of the wanted tree, relative to its root, with its owner and mode. */
export interface Entry {
    path: string;
    uid: number;
    gid: number;
    mode: number;
}

/** Bytes of the wanted file at `offset` that the other lacks. */
export interface Range {
    path: string;
    offset: number;
    length: number;
}

export interface TreeDelta {
    /** Entries of the other tree to remove first (a folder with everything in it). */
    removed: string[];
    /** Folders to create, parents first. */
    dirs: Entry[];
    /** Regular files to create, empty. */
    files: Entry[];
    /** Files whose size differs: set to this size before the ranges are written. */
    sizes: { path: string; size: number }[];
    /** Existing entries whose owner or mode differs. */
    owners: Entry[];
    ranges: Range[];
    bytes: number;
}

/** SQLite's page, and the block size of the filesystems a core runs on. */
export const BLOCK = 4096;
const CHUNK = 256 * BLOCK;

type Kind = "dir" | "file";

function kindOf(stat: fs.Stats, full: string): Kind {
    if (stat.isDirectory()) return "dir";
    if (stat.isFile()) return "file";
    throw new Error(`${full}: neither a folder nor a regular file; the floor copies only those`);
}

function lstatOrUndefined(full: string): fs.Stats | undefined {
    try {
        return fs.lstatSync(full);
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
    }
}

const sameTime = (a: string, b: string): boolean => fs.statSync(a, { bigint: true }).mtimeNs === fs.statSync(b, { bigint: true }).mtimeNs;

/** The blocks of `want` that `have` does not hold (at the same offsets), merged into ranges. */
function changedRanges(rel: string, want: string, have: string | undefined, size: number): Range[] {
    const ranges: Range[] = [];
    const add = (offset: number, length: number): void => {
        const last = ranges.at(-1);
        if (last !== undefined && last.offset + last.length === offset) last.length += length;
        else ranges.push({ path: rel, offset, length });
    };
    const wantFd = fs.openSync(want, "r");
    const haveFd = have === undefined ? undefined : fs.openSync(have, "r");
    const a = Buffer.alloc(CHUNK);
    const b = Buffer.alloc(CHUNK);
    try {
        for (let offset = 0; offset < size; offset += CHUNK) {
            const got = fs.readSync(wantFd, a, 0, Math.min(CHUNK, size - offset), offset);
            const other = haveFd === undefined ? 0 : fs.readSync(haveFd, b, 0, got, offset);
            if (other === got && a.subarray(0, got).equals(b.subarray(0, got))) continue;
            for (let block = 0; block < got; block += BLOCK) {
                const end = Math.min(block + BLOCK, got);
                if (end > other || !a.subarray(block, end).equals(b.subarray(block, end))) add(offset + block, end - block);
            }
        }
    } finally {
        fs.closeSync(wantFd);
        if (haveFd !== undefined) fs.closeSync(haveFd);
    }
    return ranges;
}

/** What turns `haveRoot`'s `folders` into `wantRoot`'s: folders relative to both roots. */
export function treeDelta(wantRoot: string, haveRoot: string, folders: readonly string[]): TreeDelta {
    const delta: TreeDelta = { removed: [], dirs: [], files: [], sizes: [], owners: [], ranges: [], bytes: 0 };
    const entryOf = (rel: string, stat: fs.Stats): Entry => ({ path: rel, uid: stat.uid, gid: stat.gid, mode: stat.mode & 0o7777 });

    /** `haveParent`: whether the other tree keeps the folder above (not when it is missing or removed). */
    const visit = (rel: string, haveParent: boolean): void => {
        const want = path.join(wantRoot, rel);
        const have = path.join(haveRoot, rel);
        const wantStat = fs.lstatSync(want);
        const kind = kindOf(wantStat, want);
        let haveStat = haveParent ? lstatOrUndefined(have) : undefined;
        if (haveStat !== undefined && kindOf(haveStat, have) !== kind) {
            delta.removed.push(rel);
            haveStat = undefined;
        }
        const entry = entryOf(rel, wantStat);
        if (haveStat === undefined) (kind === "dir" ? delta.dirs : delta.files).push(entry);
        else if (haveStat.uid !== entry.uid || haveStat.gid !== entry.gid || (haveStat.mode & 0o7777) !== entry.mode) delta.owners.push(entry);

        if (kind === "file") {
            if (haveStat !== undefined && haveStat.size === wantStat.size && sameTime(want, have)) return;
            if (haveStat !== undefined && haveStat.size !== wantStat.size) delta.sizes.push({ path: rel, size: wantStat.size });
            const ranges = changedRanges(rel, want, haveStat === undefined ? undefined : have, wantStat.size);
            delta.ranges.push(...ranges);
            delta.bytes += ranges.reduce((sum, r) => sum + r.length, 0);
            return;
        }
        const names = new Set(fs.readdirSync(want));
        if (haveStat !== undefined) {
            for (const name of fs.readdirSync(have).sort()) if (!names.has(name)) delta.removed.push(path.join(rel, name));
        }
        for (const name of [...names].sort()) visit(path.join(rel, name), haveStat !== undefined);
    };
    for (const folder of folders) visit(folder, true);
    return delta;
}
