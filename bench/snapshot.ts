// Identical starting points for every cutover the bench measures: after the churn,
// source's and dest's data folders, nginx configuration and the program's markers are
// copied aside (cp -a on the same filesystem) with both machines stopped, and put back
// (rsync) before each method, which then starts from source serving and dest stopped.
// Source's change journal is a live recorder, not a file to copy back: the copy of its
// journal at the snapshot is put behind a new recorder, so that the program's final
// round lists exactly the changes between the two trees it starts from, run after run.
import * as path from "path";
import { TestHost, TestHosts } from "../testbed";
import { shq } from "../testbed/shell";
import { defaultDataFolders } from "../config";
import { render } from "../machinery/templates";

const NGINX_CONF = "core/nginx/conf";
const SNAPSHOTTED = [...defaultDataFolders, NGINX_CONF];
/** Where the program keeps its marks on a machine (templates/partials/markers.hbs): a cutover leaves its marks there. */
const MARKERS = `"$HOME"/.pryv-migration`;

/** Source's change journal as the program's warm round started it (templates/change-journal-start.sh.hbs). */
export interface ChangeJournal {
    migrationId: string;
    round: number;
}

const snapshotDir = (host: TestHost): string => `${host.dir}/bench-snapshot`;
const journalName = (journal: ChangeJournal): string => `${shq(journal.migrationId)}/change-journal-${journal.round}`;

export async function sh(host: TestHost, script: string): Promise<string> {
    const r = await host.exec(script);
    if (r.code !== 0) throw new Error(`${host.name}: ${script.split("\n")[0]} exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
}

export const stopServices = (host: TestHost): Promise<string> => sh(host, `${shq(host.confRoot)}/stop-containers`);
export const startServices = (host: TestHost, ...services: string[]): Promise<string> =>
    sh(host, [`${shq(host.confRoot)}/run-core`, ...services.map(shq)].join(" "));

/** A full copy, made once: cp -a keeps owners, modes, times and hard links. */
function copyScript(host: TestHost): string {
    const to = snapshotDir(host);
    const data = SNAPSHOTTED.map((rel) => {
        const [src, dst] = [`${host.confRoot}/${rel}`, `${to}/${rel}`];
        return `mkdir -p ${shq(path.posix.dirname(dst))} && cp -a ${shq(src)} ${shq(dst)}`;
    });
    return [...data, `cp -a ${MARKERS} ${shq(`${to}/markers`)}`].join(" && ");
}

/**
 * Back to the copy: rsync rewrites only what a method changed and deletes what it
 * added, which on this disk is far cheaper than removing 100k files and copying them
 * again. The journal's files are left to restartJournal.
 */
function restoreScript(host: TestHost): string {
    const from = snapshotDir(host);
    const data = SNAPSHOTTED.map((rel) => `rsync -aH --numeric-ids --delete ${shq(`${from}/${rel}/`)} ${shq(`${host.confRoot}/${rel}/`)}`);
    return [...data, `rsync -a --delete --exclude='change-journal-*' ${shq(`${from}/markers/`)} ${MARKERS}/`].join(" && ");
}

/**
 * Every event of source's stop in the journal before it is copied: a file touched in
 * the recorder's flush folder shows up after every earlier event (as in folder-changes.hbs).
 */
function journalFlushed(journal: ChangeJournal): string {
    const folder = `${MARKERS}/${shq(journal.migrationId)}`;
    return [
        `sentinel="bench-snapshot-$(date +%s%N)"`,
        `touch ${folder}/change-journal-flush/"$sentinel"`,
        `for _ in $(seq 1 100); do grep -qF "$sentinel" ${MARKERS}/${journalName(journal)} && exit 0; sleep 0.05; done`,
        `echo "source's change journal did not record $sentinel within 5 s: is its recorder running?" >&2; exit 1`,
    ].join("\n");
}

/** A new recorder, the program's own, started on the restored tree; the snapshot's journal put behind it. */
async function restartJournal(source: TestHost, journal: ChangeJournal): Promise<void> {
    const started = await sh(source, render("change-journal-start.sh", { ...journal, confRoot: source.confRoot, folders: defaultDataFolders }));
    if (!started.includes('"journal":true')) throw new Error(`source's change journal did not start again: ${started.trim()}`);
    await sh(source, `cat ${shq(`${snapshotDir(source)}/markers/`)}${journalName(journal)} >> ${MARKERS}/${journalName(journal)}`);
}

/** Both machines stopped (the databases checkpoint), both copied, source started again. */
export async function takeSnapshot(hosts: TestHosts, journal: ChangeJournal): Promise<void> {
    const { source, dest } = hosts.hosts;
    await Promise.all([stopServices(source), stopServices(dest)]);
    await sh(source, journalFlushed(journal));
    await Promise.all([source, dest].map((host) => sh(host, copyScript(host))));
    await startServices(source);
}

/** Everything stopped, data, nginx configuration, markers and journal put back, source serving, dest stopped. */
export async function restoreSnapshot(hosts: TestHosts, journal: ChangeJournal): Promise<void> {
    const { source, dest } = hosts.hosts;
    await Promise.all([stopServices(source), stopServices(dest)]);
    await Promise.all([source, dest].map((host) => sh(host, restoreScript(host))));
    await restartJournal(source, journal);
    await startServices(source);
}
