import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BLOCK, treeDelta } from "./treeDelta";

const STREAM = path.join(__dirname, "floorStream.js");

/** Every entry under root: type, mode, owner, size and content digest, by path. */
function manifest(root: string, folder: string): string[] {
    const lines: string[] = [];
    const walk = (rel: string): void => {
        const full = path.join(root, rel);
        const stat = fs.lstatSync(full);
        const mode = (stat.mode & 0o7777).toString(8);
        if (stat.isDirectory()) {
            lines.push(`d ${rel} ${mode} ${stat.uid}:${stat.gid}`);
            for (const name of fs.readdirSync(full).sort()) walk(path.join(rel, name));
        } else {
            const digest = crypto.createHash("sha256").update(fs.readFileSync(full)).digest("hex");
            lines.push(`f ${rel} ${mode} ${stat.uid}:${stat.gid} ${stat.size} ${digest}`);
        }
    };
    walk(folder);
    return lines;
}

/** The delta sent by floorStream.js from `want` and applied to `have`, as the floor does over ssh. */
function stream(want: string, have: string, folders: string[]): number {
    const delta = treeDelta(want, have, folders);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pryvmig-floor-plan-"));
    try {
        const plan = path.join(scratch, "plan.json");
        fs.writeFileSync(plan, JSON.stringify({ root: want, delta }));
        const sent = path.join(scratch, "sent");
        const script = `set -o pipefail; node ${STREAM} send ${plan} ${sent} | node ${STREAM} apply ${have}`;
        const r = spawnSync("bash", ["-c", script], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        return Number(fs.readFileSync(sent, "utf8"));
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

describe("bench/treeDelta: the floor's changed blocks", () => {
    let want: string;
    let have: string;
    const write = (root: string, rel: string, content: Buffer | string): void => {
        fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
        fs.writeFileSync(path.join(root, rel), content);
    };
    /** The same file on both sides, with the same times, as a copy that keeps them leaves it. */
    const both = (rel: string, content: Buffer): void => {
        write(want, rel, content);
        write(have, rel, content);
        const { atime, mtime } = fs.statSync(path.join(want, rel));
        fs.utimesSync(path.join(have, rel), atime, mtime);
    };
    /** A write that changes the file's time, as every write does. */
    const rewrite = (rel: string, content: Buffer): void => {
        const file = path.join(want, rel);
        const before = fs.statSync(file).mtime;
        fs.writeFileSync(file, content);
        fs.utimesSync(file, before, new Date(before.getTime() + 1000));
    };

    beforeEach(() => {
        want = fs.mkdtempSync(path.join(os.tmpdir(), "pryvmig-delta-want-"));
        have = fs.mkdtempSync(path.join(os.tmpdir(), "pryvmig-delta-have-"));
        for (const root of [want, have]) fs.mkdirSync(path.join(root, "data"));
    });
    afterEach(() => {
        for (const root of [want, have]) fs.rmSync(root, { recursive: true, force: true });
    });

    it("finds nothing between identical trees", () => {
        both("data/db.sqlite", crypto.randomBytes(10 * BLOCK));
        both("data/u/attachments/e1/f1", crypto.randomBytes(300));
        const delta = treeDelta(want, have, ["data"]);
        assert.deepEqual(delta, { removed: [], dirs: [], files: [], sizes: [], owners: [], ranges: [], bytes: 0 });
    });

    it("names the pages a database rewrote, merged where they touch, and the bytes it appended", () => {
        const pages = crypto.randomBytes(300 * BLOCK);
        both("data/db.sqlite", pages);
        const rewritten = Buffer.from(pages);
        crypto.randomFillSync(rewritten, 3 * BLOCK, 2 * BLOCK); // pages 3 and 4
        rewritten[290 * BLOCK + 17] ^= 0xff; // one byte of page 290, in another 1 MiB chunk
        rewrite("data/db.sqlite", Buffer.concat([rewritten, Buffer.alloc(100, 7)]));
        const delta = treeDelta(want, have, ["data"]);
        assert.deepEqual(delta.ranges, [
            { path: "data/db.sqlite", offset: 3 * BLOCK, length: 2 * BLOCK },
            { path: "data/db.sqlite", offset: 290 * BLOCK, length: BLOCK },
            { path: "data/db.sqlite", offset: 300 * BLOCK, length: 100 },
        ]);
        assert.deepEqual(delta.sizes, [{ path: "data/db.sqlite", size: 300 * BLOCK + 100 }]);
        assert.equal(delta.bytes, 3 * BLOCK + 100);
    });

    it("creates new folders parents first, removes what source no longer has, and fixes owners and modes", () => {
        both("data/u/attachments/gone/f", crypto.randomBytes(50));
        both("data/kept", crypto.randomBytes(50));
        write(want, "data/u/attachments/new/f1", crypto.randomBytes(5000));
        write(want, "data/u/attachments/new/empty", "");
        fs.chmodSync(path.join(want, "data/kept"), 0o600);
        fs.chownSync(path.join(want, "data/u/attachments/new/f1"), 9999, 9999);
        fs.rmSync(path.join(want, "data/u/attachments/gone"), { recursive: true });
        write(have, "data/wal", "left by a database that since checkpointed");

        const delta = treeDelta(want, have, ["data"]);
        assert.deepEqual(delta.removed, ["data/wal", "data/u/attachments/gone"]);
        assert.deepEqual(
            delta.dirs.map((d) => d.path),
            ["data/u/attachments/new"],
        );
        assert.deepEqual(
            delta.files.map((f) => [f.path, f.uid]),
            [
                ["data/u/attachments/new/empty", 0],
                ["data/u/attachments/new/f1", 9999],
            ],
        );
        assert.deepEqual(delta.owners, [{ path: "data/kept", uid: 0, gid: 0, mode: 0o600 }]);
        assert.deepEqual(delta.ranges, [{ path: "data/u/attachments/new/f1", offset: 0, length: 5000 }]);
    });

    it("makes dest's tree byte for byte source's once streamed and applied, and sends only the changed bytes", () => {
        const pages = crypto.randomBytes(64 * BLOCK);
        both("data/db.sqlite", pages);
        both("data/shrinks", crypto.randomBytes(3 * BLOCK));
        both("data/u/attachments/e1/f1", crypto.randomBytes(700));
        write(have, "data/u/attachments/e2/old", "deleted by a user");
        write(have, "data/turns-into-folder", "a file on dest");
        const rewritten = Buffer.from(pages);
        crypto.randomFillSync(rewritten, 10 * BLOCK, BLOCK);
        rewrite("data/db.sqlite", rewritten);
        fs.truncateSync(path.join(want, "data/shrinks"), BLOCK + 5);
        write(want, "data/u/attachments/e3/new", crypto.randomBytes(2 * BLOCK + 1));
        write(want, "data/turns-into-folder/inside", "x");
        fs.chownSync(path.join(want, "data/u/attachments/e3"), 999, 999);

        const sent = stream(want, have, ["data"]);
        assert.deepEqual(manifest(have, "data"), manifest(want, "data"));
        assert.equal(sent, BLOCK + 2 * BLOCK + 1 + 1);
        assert.deepEqual(treeDelta(want, have, ["data"]).bytes, 0);
    });

    it("takes a file of the same size and time as unchanged, as rsync's quick check does", () => {
        both("data/db.sqlite", crypto.randomBytes(4 * BLOCK));
        const file = path.join(want, "data/db.sqlite");
        const { atime, mtime } = fs.statSync(file);
        const changed = fs.readFileSync(file);
        changed[5] ^= 0xff;
        fs.writeFileSync(file, changed);
        assert.equal(treeDelta(want, have, ["data"]).bytes, BLOCK, "a write changes the time: the block is found");
        fs.utimesSync(file, atime, mtime);
        assert.equal(treeDelta(want, have, ["data"]).bytes, 0, "the time put back: the file is taken as unchanged");
    });

    it("refuses an entry it cannot copy, naming it", () => {
        fs.symlinkSync("/etc/hostname", path.join(want, "data/link"));
        assert.throws(() => treeDelta(want, have, ["data"]), new RegExp(`${want}/data/link: neither a folder nor a regular file`));
    });
});
