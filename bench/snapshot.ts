// Identical starting points for the three cutovers: after the churn, source's and
// dest's data folders and nginx configuration are copied aside (cp -a on the same
// filesystem) with both machines stopped, and put back (rsync) before each method,
// which then starts from source serving and dest stopped.
import * as path from "path";
import { TestHost, TestHosts } from "../testbed";
import { shq } from "../testbed/shell";
import { defaultDataFolders } from "../config";

const NGINX_CONF = "core/nginx/conf";
const SNAPSHOTTED = [...defaultDataFolders, NGINX_CONF];

const snapshotDir = (host: TestHost): string => `${host.dir}/bench-snapshot`;

export async function sh(host: TestHost, script: string): Promise<string> {
    const r = await host.exec(script);
    if (r.code !== 0) throw new Error(`${host.name}: ${script.split("\n")[0]} exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
}

export const stopServices = (host: TestHost): Promise<string> => sh(host, `${shq(host.confRoot)}/stop-containers`);
export const startServices = (host: TestHost, ...services: string[]): Promise<string> =>
    sh(host, [`${shq(host.confRoot)}/run-core`, ...services.map(shq)].join(" "));

/** A full copy, made once: cp -a keeps owners, modes, times and hard links. */
function copyScript(from: string, to: string): string {
    return SNAPSHOTTED.map((rel) => {
        const [src, dst] = [`${from}/${rel}`, `${to}/${rel}`];
        return `mkdir -p ${shq(path.posix.dirname(dst))} && cp -a ${shq(src)} ${shq(dst)}`;
    }).join(" && ");
}

/**
 * Back to the copy: rsync rewrites only what a method changed and deletes what it
 * added, which on this disk is far cheaper than removing 100k files and copying them again.
 */
function restoreScript(from: string, to: string): string {
    return SNAPSHOTTED.map((rel) => `rsync -aH --numeric-ids --delete ${shq(`${from}/${rel}/`)} ${shq(`${to}/${rel}/`)}`).join(" && ");
}

/** Both machines stopped (the database checkpoints), both copied, source started again. */
export async function takeSnapshot(hosts: TestHosts): Promise<void> {
    const { source, dest } = hosts.hosts;
    await Promise.all([stopServices(source), stopServices(dest)]);
    await Promise.all([source, dest].map((host) => sh(host, copyScript(host.confRoot, snapshotDir(host)))));
    await startServices(source);
}

/** Everything stopped, data and nginx configuration put back, source serving, dest stopped. */
export async function restoreSnapshot(hosts: TestHosts): Promise<void> {
    const { source, dest } = hosts.hosts;
    await Promise.all([stopServices(source), stopServices(dest)]);
    await Promise.all([source, dest].map((host) => sh(host, restoreScript(snapshotDir(host), host.confRoot))));
    await startServices(source);
}
