// What the integration tests and the rehearsal look at, from outside the program.
import { strict as assert } from "assert";
import * as fs from "fs";
import { databaseEvents, TestHost, TestHosts, userSqliteEventIds } from "..";
import { folderPath } from "../../config";
import { dnsQuery, httpsRequest, websocketUpgrade } from "../checks";
import { shq } from "../shell";

/** Which machine's core stand-in answers <name> through `host`'s nginx, or why none does. */
export async function servedBy(hosts: TestHosts, host: TestHost, user = hosts.subdomain): Promise<string> {
    const response = await httpsRequest("root", host.ip, `${user}.${hosts.domain}`, "/reg/service/info");
    return response.status === 200 ? (JSON.parse(response.body) as { machine: string }).machine : "nobody";
}

/** A websocket upgrade through `host`'s nginx: which machine's stand-in accepted it. */
export async function websocketReaches(hosts: TestHosts, host: TestHost): Promise<string> {
    const result = await websocketUpgrade(host.ip, `${hosts.subdomain}.${hosts.domain}`, "/socket.io/?EIO=3&transport=websocket").catch((error: Error) => ({
        statusLine: error.message,
        bodyLine: "",
    }));
    return / 101 /.test(result.statusLine) ? result.bodyLine.replace(/^fixture-websocket /, "").trim() : `refused (${result.statusLine})`;
}

export async function writeEvent(hosts: TestHosts, through: TestHost, user: string, id: string): Promise<void> {
    const response = await httpsRequest("root", through.ip, `${user}.${hosts.domain}`, `/${user}/events`, "POST", JSON.stringify({ id }));
    assert.equal(response.status, 201, `write through ${through.name}: ${response.error ?? response.body}`);
}

export function writesOf(host: TestHost, user: string): string {
    const file = `${host.servicesFolder}/core/data/${user}/fixture-writes.jsonl`;
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
}

/**
 * The ids of the user's events the host holds, read past nginx and the core: on docker
 * hosts from its database (FerretDB), and on v1 hosts only those also in the user's own
 * SQLite file (Pryv.io 1.7+'s core keeps each event in both); on process hosts from the
 * fixture's write log.
 */
export async function eventIdsHeld(host: TestHost, user: string): Promise<Set<string>> {
    if (host.engine === "docker") {
        const ids = (await databaseEvents(host, user)).map((event) => event.id);
        if (host.layout !== "pryv-v1") return new Set(ids);
        const inUserFile = await userSqliteEventIds(host, user);
        return new Set(ids.filter((id) => inUserFile.has(id)));
    }
    const ids = writesOf(host, user)
        .split("\n")
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { id?: string }).id ?? "");
    return new Set(ids);
}

export const authorizedKeys = (host: TestHost): string => {
    const file = `${host.dir}/home/root/.ssh/authorized_keys`;
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
};

/** Commands each host's sshd ran so far, counted by its login shell. */
export const commandCounts = (hosts: TestHosts): number[] => Object.values(hosts.hosts).map((host) => host.commandCount());

/** Whether a serving host's database holds the user's event (read past nginx and the core). */
export const holdsEvent = async (host: TestHost, user: string, id: string): Promise<boolean> => (await eventIdsHeld(host, user)).has(id);

/** Whether a host's stopped database files hold the text (FerretDB's SQLite keeps it as written). */
export const databaseFilesHold = async (host: TestHost, folder: string, text: string): Promise<boolean> =>
    (await host.exec(`grep -rqF -- ${shq(text)} ${shq(folder)}`)).code === 0;

/** A data folder of the host, from this machine's side: in its confRoot, or its own copy of a folder outside it (the audit trail). */
export const dataFolderOn = (host: TestHost, folder: string): string => host.pathOnHost(folderPath(host.confRoot, folder));

/** Each register's answer for the core, asked as the operator's machine would; retried (20 s at most) while its DNS container restarts. */
export const registerAnswers = async (hosts: TestHosts, registers: TestHost[], expected: string): Promise<string[][]> =>
    Promise.all(
        registers.map(async (register) => {
            let answer: string[] = [];
            for (let i = 0; i < 40 && answer[0] !== expected; i++)
                answer = await dnsQuery(register.ip, `${hosts.subdomain}.${hosts.domain}`, 500).catch(() => []);
            return answer;
        }),
    );
