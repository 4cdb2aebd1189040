// Method (a): the cutover of the 2019 procedure (../shared/seeds/000_3cec29fd8850675e.txt)
// as written, typed by an operator without pauses: source's containers stopped, the
// last `rsync --verbose --copy-links --archive --compress --delete` of each data folder
// pulled by dest, dest's core started, source's site-443.conf edited as the procedure
// says and `run-core` run there: "we just boot all services, even if they will be
// ignored as NGINX is proxying to the *dest* machine". Every data folder is synced (the procedure lists
// two), so that the methods move the same data.
import * as fs from "fs";
import { TestHosts } from "../testbed";
import { shq } from "../testbed/shell";
import { defaultDataFolders } from "../config";
import { overSsh, rsyncShell, since } from "./ssh";

export interface StepTime {
    step: string;
    seconds: number;
}

export interface FolderSync {
    folder: string;
    seconds: number;
    sentBytes?: number;
    receivedBytes?: number;
}

const PROCEDURE_UPSTREAMS = ["core_server", "websocket_server", "hfs_server", "preview_server"];

/**
 * site-443.conf edited as the procedure's "Set NGINX proxying" says: the four upstreams
 * at dest:443, and http -> https for core, hfs and preview. The websocket line is
 * "changed" from http://websocket_server to http://websocket_server, i.e. left alone
 * (defect 1 of MIGRATION.md), and upstreams the procedure does not name stay as they are.
 */
export function procedureProxyFile(original: string, destIp: string): string {
    let text = original;
    for (const upstream of PROCEDURE_UPSTREAMS) {
        const block = new RegExp(`upstream ${upstream} \\{[^}]*\\}`);
        if (!block.test(text)) throw new Error(`site-443.conf has no upstream ${upstream}: the procedure does not apply`);
        text = text.replace(block, `upstream ${upstream} {\n  server ${destIp}:443;\n}`);
    }
    for (const upstream of ["core_server", "hfs_server", "preview_server"]) text = text.split(`http://${upstream}`).join(`https://${upstream}`);
    return text;
}

/** Runs the cutover; returns each step's time as the operator's terminal would show it. */
export async function writtenProcedureCutover(hosts: TestHosts): Promise<{ steps: StepTime[]; syncs: FolderSync[] }> {
    const { source, dest } = hosts.hosts;
    const steps: StepTime[] = [];
    const timed = async (step: string, work: () => Promise<unknown>): Promise<void> => {
        const started = Date.now();
        await work();
        steps.push({ step, seconds: since(started) });
    };
    const siteFile = `${source.confRoot}/core/nginx/conf/site-443.conf`;
    const proxyFile = procedureProxyFile(fs.readFileSync(siteFile, "utf8"), dest.ip);

    await timed("stop-containers on source", () => overSsh(hosts, source, `${shq(source.confRoot)}/stop-containers >/dev/null`));
    let syncOutput = "";
    await timed("last rsync of every folder, one after the other, on dest", async () => {
        // Steps 2 and 3 of "Transfer user data", for each folder; the times and rsync's summary line are for the report.
        const script = defaultDataFolders
            .map((folder) => {
                const path = `${source.confRoot}/${folder}`;
                const rsync = `rsync --verbose --copy-links --archive --compress --delete -e ${shq(rsyncShell(hosts, source))} root@${source.ip}:${shq(`${path}/`)} ${shq(`${dest.confRoot}/${folder}`)}`;
                return `start=$EPOCHREALTIME; summary=$(${rsync} | grep '^sent '); echo ${shq(folder)} $start $EPOCHREALTIME "$summary"`;
            })
            .join("\n");
        syncOutput = (await overSsh(hosts, dest, script)).stdout;
    });
    await timed("run-core on dest", () => overSsh(hosts, dest, `${shq(dest.confRoot)}/run-core`));
    await timed("site-443.conf edited on source", () =>
        overSsh(hosts, source, `cat > ${shq(siteFile)} <<'PRYV_PROCEDURE_PROXY'\n${proxyFile}PRYV_PROCEDURE_PROXY`),
    );
    await timed("run-core on source (nginx proxying, the rest ignored)", () => overSsh(hosts, source, `${shq(source.confRoot)}/run-core`));
    return { steps, syncs: parseSyncs(syncOutput) };
}

function parseSyncs(output: string): FolderSync[] {
    return output
        .split("\n")
        .filter(Boolean)
        .map((line) => {
            const [folder, start, end, ...summary] = line.split(" ");
            const numbers = /sent ([\d,.]+) bytes\s+received ([\d,.]+) bytes/.exec(summary.join(" "));
            const bytes = (text: string | undefined): number | undefined => (text === undefined ? undefined : Number(text.replace(/[,.]/g, "")));
            return {
                folder,
                seconds: Math.round((Number(end) - Number(start)) * 1000) / 1000,
                sentBytes: bytes(numbers?.[1]),
                receivedBytes: bytes(numbers?.[2]),
            };
        });
}
