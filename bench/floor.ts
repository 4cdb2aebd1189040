// Method (c), the floor: what no cutover can go below on this link. Exactly the bytes the
// churn changed (new files whole, rewritten pages and appended ranges only) plus the
// prober's writes, sent in one stream over ssh from source and written in place on dest;
// then dest started and polled until it answers; then source's nginx switched to a proxy
// file and started alone, polled until dest answers through it. Each part is timed in
// the same run; floorSeconds is their sum. The stream is a header line per range and the
// range's bytes: nothing is compared or listed, which is what makes it a floor.
import * as fs from "fs";
import { TestHosts } from "../testbed";
import { PRYV_UID } from "../testbed/host-files";
import { shq } from "../testbed/shell";
import { ChurnRecord } from "./churn";
import { ProberTarget, untilServedBy } from "./prober";
import { sh, startServices, stopServices } from "./snapshot";
import { sshCommand, since } from "./ssh";
import { procedureProxyFile } from "./writtenProcedure";

export interface FloorFigures {
    floorSeconds: number;
    copySeconds: number;
    copiedBytes: number;
    destStartSeconds: number;
    nginxSwitchSeconds: number;
    /** Not part of the floor: stopping source's services (the database checkpoints). */
    sourceStopSeconds: number;
}

/** Runs on source: the plan's ranges, read where they are, on stdout. */
const SEND_JS = `"use strict";
const fs = require("fs");
const plan = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const file = (rel) => plan.confRoot + "/" + rel;
const out = process.stdout;
const write = (bytes) => new Promise((resolve) => (out.write(bytes) ? resolve() : out.once("drain", resolve)));
const fds = new Map();
const fdOf = (rel) => fds.get(rel) ?? fds.set(rel, fs.openSync(file(rel), "r")).get(rel);
(async () => {
    // Files written until source stopped are sent whole: their size is known only now.
    const whole = plan.wholeFiles.filter((rel) => fs.existsSync(file(rel)))
        .map((rel) => ({ path: rel, offset: 0, length: fs.statSync(file(rel)).size, create: plan.wholeFileOwner }));
    await write(JSON.stringify({ dirs: plan.dirs, deletedFiles: plan.deletedFiles, deletedDirs: plan.deletedDirs }) + "\\n");
    let bytes = 0;
    for (const range of plan.changes.concat(whole)) {
        const data = Buffer.alloc(range.length);
        const got = fs.readSync(fdOf(range.path), data, 0, range.length, range.offset);
        await write(JSON.stringify({ p: range.path, o: range.offset, n: got, c: range.create }) + "\\n");
        await write(data.subarray(0, got));
        bytes += got;
    }
    out.end();
    fs.writeFileSync(process.argv[3], String(bytes));
})();
`;

/** Runs on dest: folders made, deletions done, each range written at its offset. */
const APPLY_JS = `"use strict";
const fs = require("fs");
const root = process.argv[2];
const file = (rel) => root + "/" + rel;
const fds = new Map();
let pending = Buffer.alloc(0);
let header = null;
let structure = true;
function fdOf(h) {
    if (!fds.has(h.p)) {
        const fd = fs.openSync(file(h.p), h.c ? "w" : "r+", h.c ? h.c.mode : undefined);
        if (h.c) fs.fchownSync(fd, h.c.uid, h.c.uid);
        fds.set(h.p, fd);
    }
    return fds.get(h.p);
}
function applyStructure(s) {
    for (const rel of s.deletedFiles) fs.rmSync(file(rel), { force: true });
    for (const rel of s.deletedDirs) fs.rmSync(file(rel), { recursive: true, force: true });
    for (const d of s.dirs) {
        fs.mkdirSync(file(d.path), { recursive: true });
        fs.chownSync(file(d.path), d.uid, d.uid);
    }
}
function drain() {
    for (;;) {
        if (header === null) {
            const newline = pending.indexOf(10);
            if (newline < 0) return;
            const parsed = JSON.parse(pending.subarray(0, newline).toString("utf8"));
            pending = pending.subarray(newline + 1);
            if (structure) {
                structure = false;
                applyStructure(parsed);
                continue;
            }
            header = parsed;
        }
        if (pending.length < header.n) return;
        fs.writeSync(fdOf(header), pending, 0, header.n, header.o);
        pending = pending.subarray(header.n);
        header = null;
    }
}
process.stdin.on("data", (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    drain();
});
process.stdin.on("end", () => {
    for (const fd of fds.values()) fs.closeSync(fd);
    if (header !== null || pending.length > 0) {
        console.error("stream ended inside a range");
        process.exit(1);
    }
});
`;

/** The proxy file the procedure meant: every upstream at dest over https, websocket included, with SNI. */
export function floorProxyFile(original: string, destIp: string): string {
    return procedureProxyFile(original, destIp)
        .split("http://websocket_server")
        .join("https://websocket_server")
        .replace(/^server \{$/m, "server {\n  proxy_ssl_server_name on;\n  proxy_ssl_name $host;");
}

export async function floorCutover(hosts: TestHosts, record: ChurnRecord, writeUsers: string[], target: ProberTarget): Promise<FloorFigures> {
    const { source, dest } = hosts.hosts;
    const plan = {
        confRoot: source.confRoot,
        dirs: record.createdDirs,
        deletedFiles: record.deletedFiles,
        deletedDirs: record.deletedDirs,
        changes: record.changes,
        wholeFiles: writeUsers.map((user) => `core/core/data/${user}/fixture-writes.jsonl`),
        wholeFileOwner: { uid: PRYV_UID, mode: 0o644 },
    };
    fs.writeFileSync(`${source.dir}/bench-floor-plan.json`, JSON.stringify(plan));
    fs.writeFileSync(`${source.dir}/bench-floor-send.js`, SEND_JS);
    fs.writeFileSync(`${dest.dir}/bench-floor-apply.js`, APPLY_JS);
    const node = shq(process.execPath);

    let started = Date.now();
    await stopServices(source);
    const sourceStopSeconds = since(started);

    started = Date.now();
    const apply = `${node} ${shq(`${dest.dir}/bench-floor-apply.js`)} ${shq(dest.confRoot)}`;
    const sentFile = `${source.dir}/bench-floor-sent`;
    const send = `${node} ${shq(`${source.dir}/bench-floor-send.js`)} ${shq(`${source.dir}/bench-floor-plan.json`)} ${shq(sentFile)}`;
    await sh(source, `set -o pipefail; ${send} | ${sshCommand(hosts, dest)} ${shq(apply)}`);
    const copySeconds = since(started);

    started = Date.now();
    await startServices(dest);
    await untilServedBy({ ...target, ip: dest.ip }, "dest", 60_000);
    const destStartSeconds = since(started);

    started = Date.now();
    const siteFile = `${source.confRoot}/core/nginx/conf/site-443.conf`;
    fs.writeFileSync(siteFile, floorProxyFile(fs.readFileSync(siteFile, "utf8"), dest.ip));
    await startServices(source, "reverse_proxy");
    await untilServedBy(target, "dest", 60_000);
    const nginxSwitchSeconds = since(started);

    return {
        floorSeconds: Math.round((copySeconds + destStartSeconds + nginxSwitchSeconds) * 1000) / 1000,
        copySeconds,
        copiedBytes: Number(fs.readFileSync(sentFile, "utf8")),
        destStartSeconds,
        nginxSwitchSeconds,
        sourceStopSeconds,
    };
}
