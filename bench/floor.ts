// Method (c), the floor: what no cutover can go below on this link. With source stopped,
// exactly the 4 KiB blocks in which its data folders differ from dest's copy (what the
// churn and the prober's writes changed, as the databases wrote it: treeDelta.ts, not
// timed), sent in one stream over ssh from source and written in place on dest
// (floorStream.js); then dest started and polled until it answers; then source's nginx
// switched to a proxy file and started alone, polled until dest answers through it.
// Each part is timed in the same run; floorSeconds is their sum with source's stop,
// which every cold cutover makes (the databases write their last pages as they stop).
import * as fs from "fs";
import * as path from "path";
import { defaultDataFolders } from "../config";
import { TestHosts } from "../testbed";
import { shq } from "../testbed/shell";
import { ProberTarget, untilServedBy } from "./prober";
import { sh, startServices, stopServices } from "./snapshot";
import { sshCommand, since } from "./ssh";
import { treeDelta } from "./treeDelta";

export interface FloorFigures {
    floorSeconds: number;
    copySeconds: number;
    copiedBytes: number;
    /** Files created or changed on dest. */
    changedFiles: number;
    /** Not part of the floor: finding the changed blocks. */
    deltaSeconds: number;
    destStartSeconds: number;
    nginxSwitchSeconds: number;
    /** Stopping source's services (the databases checkpoint): part of the floor. */
    sourceStopSeconds: number;
}

/**
 * The proxy file the procedure meant: every upstream of the file at dest over https,
 * websocket included, with SNI. Every one: nginx started alone must resolve each
 * upstream's server, and the compose names of source's stopped services do not.
 */
export function floorProxyFile(original: string, destIp: string): string {
    const block = /upstream (\w+) \{[^}]*\}/g;
    const names = [...original.matchAll(block)].map((match) => match[1]);
    let text = original.replace(block, (_, name: string) => `upstream ${name} {\n  server ${destIp}:443;\n}`);
    for (const name of names) text = text.split(`http://${name}`).join(`https://${name}`);
    return text.replace(/^server \{$/m, "server {\n  proxy_ssl_server_name on;\n  proxy_ssl_name $host;");
}

const STREAM = path.join(__dirname, "floorStream.js");

export async function floorCutover(hosts: TestHosts, target: ProberTarget): Promise<FloorFigures> {
    const { source, dest } = hosts.hosts;
    let started = Date.now();
    await stopServices(source);
    const sourceStopSeconds = since(started);

    // Not timed: a floor knows what changed without looking.
    started = Date.now();
    const delta = treeDelta(source.confRoot, dest.confRoot, defaultDataFolders);
    const deltaSeconds = since(started);
    const planFile = `${source.dir}/bench-floor-plan.json`;
    fs.writeFileSync(planFile, JSON.stringify({ root: source.confRoot, delta }));
    for (const host of [source, dest]) fs.copyFileSync(STREAM, `${host.dir}/floorStream.js`);
    const node = shq(process.execPath);

    started = Date.now();
    const sentFile = `${source.dir}/bench-floor-sent`;
    const send = `${node} ${shq(`${source.dir}/floorStream.js`)} send ${shq(planFile)} ${shq(sentFile)}`;
    const apply = `${node} ${shq(`${dest.dir}/floorStream.js`)} apply ${shq(dest.confRoot)}`;
    await sh(source, `set -o pipefail; ${send} | ${sshCommand(hosts, dest)} ${shq(apply)}`);
    const copySeconds = since(started);

    started = Date.now();
    await startServices(dest);
    await untilServedBy({ ...target, ip: dest.ip }, "dest", 60_000);
    const destStartSeconds = since(started);

    started = Date.now();
    const siteFile = `${source.confRoot}/core/nginx/conf/site-443.conf`;
    fs.writeFileSync(siteFile, floorProxyFile(fs.readFileSync(siteFile, "utf8"), dest.ip));
    await startServices(source, "--no-deps", "reverse_proxy");
    await untilServedBy(target, "dest", 60_000);
    const nginxSwitchSeconds = since(started);

    return {
        floorSeconds: Math.round((sourceStopSeconds + copySeconds + destStartSeconds + nginxSwitchSeconds) * 1000) / 1000,
        copySeconds,
        copiedBytes: Number(fs.readFileSync(sentFile, "utf8")),
        changedFiles: delta.files.length + new Set(delta.ranges.map((r) => r.path)).size,
        deltaSeconds,
        destStartSeconds,
        nginxSwitchSeconds,
        sourceStopSeconds,
    };
}
