#!/usr/bin/env node
// The floor's stream (bench/floor.ts), copied to the test hosts and run by their node:
//   node floorStream.js send <plan.json> <sent-bytes-file>   on source: the plan's
//       structure as one JSON line, then each range as a header line and its bytes, on stdout
//   node floorStream.js apply <root>                         on dest: that stream from stdin,
//       applied under root: removals, folders, files, sizes, owners, then each range at its offset
// A plan is a TreeDelta (bench/treeDelta.ts) and the root it was read from. Nothing is
// compared or listed here: that is what makes it a floor.
"use strict";
const fs = require("fs");
const path = require("path");

function write(out, bytes) {
    return new Promise((resolve) => (out.write(bytes) ? resolve() : out.once("drain", resolve)));
}

async function send(planFile, sentFile) {
    const plan = JSON.parse(fs.readFileSync(planFile, "utf8"));
    const { ranges, ...structure } = plan.delta;
    const out = process.stdout;
    await write(out, JSON.stringify(structure) + "\n");
    const fds = new Map();
    let bytes = 0;
    for (const range of ranges) {
        if (!fds.has(range.path)) fds.set(range.path, fs.openSync(path.join(plan.root, range.path), "r"));
        const data = Buffer.alloc(range.length);
        const got = fs.readSync(fds.get(range.path), data, 0, range.length, range.offset);
        if (got !== range.length) throw new Error(`${range.path}: ${got} bytes at ${range.offset}, the plan says ${range.length}`);
        await write(out, JSON.stringify({ p: range.path, o: range.offset, n: got }) + "\n");
        await write(out, data);
        bytes += got;
    }
    for (const fd of fds.values()) fs.closeSync(fd);
    out.end();
    fs.writeFileSync(sentFile, String(bytes));
}

function applyStructure(root, s) {
    const full = (rel) => path.join(root, rel);
    for (const rel of s.removed) fs.rmSync(full(rel), { recursive: true, force: true });
    for (const d of s.dirs) fs.mkdirSync(full(d.path));
    for (const f of s.files) fs.closeSync(fs.openSync(full(f.path), "wx"));
    for (const { path: rel, size } of s.sizes) fs.truncateSync(full(rel), size);
    for (const e of [...s.dirs, ...s.files, ...s.owners]) {
        fs.chownSync(full(e.path), e.uid, e.gid);
        fs.chmodSync(full(e.path), e.mode);
    }
}

function apply(root) {
    const fds = new Map();
    const fdOf = (rel) => {
        if (!fds.has(rel)) fds.set(rel, fs.openSync(path.join(root, rel), "r+"));
        return fds.get(rel);
    };
    let pending = Buffer.alloc(0);
    let header = null;
    let structure = true;
    const drain = () => {
        for (;;) {
            if (header === null) {
                const newline = pending.indexOf(10);
                if (newline < 0) return;
                const parsed = JSON.parse(pending.subarray(0, newline).toString("utf8"));
                pending = pending.subarray(newline + 1);
                if (structure) {
                    structure = false;
                    applyStructure(root, parsed);
                    continue;
                }
                header = parsed;
            }
            if (pending.length < header.n) return;
            fs.writeSync(fdOf(header.p), pending, 0, header.n, header.o);
            pending = pending.subarray(header.n);
            header = null;
        }
    };
    process.stdin.on("data", (chunk) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        drain();
    });
    process.stdin.on("end", () => {
        for (const fd of fds.values()) fs.closeSync(fd);
        if (structure || header !== null || pending.length > 0) {
            console.error("the stream ended early");
            process.exit(1);
        }
    });
}

const [command, ...args] = process.argv.slice(2);
if (command === "send" && args.length === 2) {
    send(args[0], args[1]).catch((e) => {
        console.error(e.stack || String(e));
        process.exit(1);
    });
} else if (command === "apply" && args.length === 1) {
    apply(args[0]);
} else {
    console.error("usage: floorStream.js send <plan.json> <sent-bytes-file> | apply <root>");
    process.exit(2);
}
