// What tests look at from outside the migration program: trees compared byte for byte
// between hosts, HTTPS and websocket requests through a host's nginx, the database,
// the registers' DNS answers.
import * as crypto from "crypto";
import { promises as dnsPromises } from "dns";
import * as fs from "fs";
import * as path from "path";
import * as tls from "tls";
import type { TestHost } from "./index";
import { namespaceOf, processAlive } from "./network";
import { dnsJsonPath, isRegister } from "./register";
import { run, shq } from "./shell";
import { activeCertificate } from "./tls";

/**
 * One line per entry, sorted: path, type, uid, gid, mode, size, sha256 (files),
 * symlink target, hard-link group (first path of the group), and whether the file is
 * sparse. Directory sizes are left out: they depend on a folder's history, not on its
 * content. The run folder is on the filesystem every host shares, so this reads it
 * directly; `host` says whose folder it is.
 */
export async function treeManifest(host: TestHost, absFolder: string): Promise<string> {
    if (!path.isAbsolute(absFolder)) throw new Error(`${host.name}: folder must be absolute, got ${absFolder}`);
    const entries: string[] = [];
    const walk = (rel: string): void => {
        for (const name of fs.readdirSync(path.join(absFolder, rel)).sort()) {
            const r = rel ? `${rel}/${name}` : name;
            entries.push(r);
            if (fs.lstatSync(path.join(absFolder, r)).isDirectory()) walk(r);
        }
    };
    walk("");
    entries.sort();
    const firstOfInode = new Map<number, string>();
    const lines = [".", ...entries].map((rel) => {
        const full = rel === "." ? absFolder : path.join(absFolder, rel);
        const st = fs.lstatSync(full);
        const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
        const fields = [rel, "", String(st.uid), String(st.gid), mode];
        if (st.isDirectory()) {
            fields[1] = "d";
        } else if (st.isSymbolicLink()) {
            fields[1] = "l";
            fields.push(String(st.size), `-> ${fs.readlinkSync(full)}`);
        } else if (st.isFile()) {
            fields[1] = "f";
            const sha = crypto.createHash("sha256").update(fs.readFileSync(full)).digest("hex");
            fields.push(String(st.size), sha);
            if (st.nlink > 1) {
                if (!firstOfInode.has(st.ino)) firstOfInode.set(st.ino, rel);
                fields.push(`link=${firstOfInode.get(st.ino)}`);
            }
            if (st.blocks * 512 < st.size) fields.push("sparse");
        } else {
            fields[1] = "o";
        }
        return fields.join("\t");
    });
    return lines.join("\n") + "\n";
}

export interface HttpsResponse {
    /** 0 when no HTTP response came back (connection refused, TLS failure, timeout). */
    status: number;
    headers: Record<string, string>;
    body: string;
    error?: string;
}

/**
 * An HTTPS request to <ip>:443 with the given Host and SNI, trusting only the run's
 * certificate. `from` is the namespace to send it from: a host, or 'root' (the operator).
 */
export async function httpsRequest(
    from: TestHost | "root",
    ip: string,
    hostHeader: string,
    urlPath: string,
    method = "GET",
    body?: string,
): Promise<HttpsResponse> {
    const args = [
        "-sS",
        "--max-time",
        "10",
        "--resolve",
        `${hostHeader}:443:${ip}`,
        "--cacert",
        activeCertificate().certPath,
        "-X",
        method,
        "-D",
        "-",
        "-o",
        "-",
    ];
    if (body !== undefined) args.push("-H", "Content-Type: application/json", "--data-binary", "@-");
    args.push(`https://${hostHeader}${urlPath}`);
    const r =
        from === "root" ? await run("curl", args, { input: body ?? "" }) : await from.exec(`printf '%s' ${shq(body ?? "")} | curl ${args.map(shq).join(" ")}`);
    if (r.code !== 0) return { status: 0, headers: {}, body: "", error: r.stderr.trim() || `curl exited ${r.code}` };
    const split = r.stdout.indexOf("\r\n\r\n");
    const head = split < 0 ? r.stdout : r.stdout.slice(0, split);
    const [statusLine, ...headerLines] = head.split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
        const colon = line.indexOf(":");
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { status: Number(statusLine.split(" ")[1] ?? 0), headers, body: split < 0 ? "" : r.stdout.slice(split + 4) };
}

export interface UpgradeResult {
    statusLine: string;
    bodyLine: string;
}

/** Sends an HTTP/1.1 websocket Upgrade over TLS from the root namespace; reads the status and first body line. */
export function websocketUpgrade(ip: string, hostHeader: string, urlPath: string, timeoutMs = 10000): Promise<UpgradeResult> {
    return new Promise((resolve, reject) => {
        const socket = tls.connect({ host: ip, port: 443, servername: hostHeader, ca: activeCertificate().certPem });
        let received = "";
        const finish = (error?: Error): void => {
            clearTimeout(timer);
            socket.destroy();
            const split = received.indexOf("\r\n\r\n");
            const statusLine = received.split("\r\n")[0] ?? "";
            const bodyLine = split < 0 ? "" : received.slice(split + 4).split("\n")[0];
            if (error && !statusLine) reject(error);
            else resolve({ statusLine, bodyLine });
        };
        const timer = setTimeout(() => finish(new Error(`no upgrade answer from ${ip} within ${timeoutMs} ms`)), timeoutMs);
        socket.on("secureConnect", () => {
            socket.write(
                `GET ${urlPath} HTTP/1.1\r\nHost: ${hostHeader}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
                    `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
            );
        });
        socket.on("data", (chunk: Buffer) => {
            received += chunk.toString("utf8");
            const split = received.indexOf("\r\n\r\n");
            // Done with a full first body line, or with a final response that has no body to wait for.
            if (split >= 0 && (received.indexOf("\n", split + 4) >= 0 || !received.startsWith("HTTP/1.1 101"))) finish();
        });
        socket.on("error", (e: Error) => finish(e));
        socket.on("end", () => finish());
    });
}

/**
 * Whether a database stand-in runs in this host's namespace on its dbpath. Looks at
 * the processes, not the pid file, so a stand-in started some other way counts too.
 */
export async function isDatabaseRunning(host: TestHost): Promise<boolean> {
    const dbpath = `${host.confRoot}/core/mongodb/data`;
    const r = await run("ip", ["netns", "pids", namespaceOf(host.name)]);
    return r.stdout
        .split(/\s+/)
        .filter(Boolean)
        .map(Number)
        .some((pid) => {
            if (!processAlive(pid)) return false;
            try {
                const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
                return args.some((a) => a.endsWith("database-standin.js")) && args.includes(dbpath);
            } catch {
                return false; // exited meanwhile
            }
        });
}

/** A register's dns.json, the file the migration's dns phase edits. */
export function registerDnsJsonPath(host: TestHost): string {
    if (!isRegister(host.name)) throw new Error(`${host.name} is not a register: it has no dns.json`);
    return dnsJsonPath(host.confRoot, host.name);
}

/**
 * The A records a DNS server gives for a name, asked over UDP from the root namespace
 * as the operator's machine would. NXDOMAIN, and a name without A record, give [];
 * a server that does not answer (stopped, port closed) is an error (ECONNREFUSED,
 * ETIMEOUT), so "no such name" and "no server" stay apart.
 */
export async function dnsQuery(serverIp: string, name: string, timeoutMs = 1000): Promise<string[]> {
    const resolver = new dnsPromises.Resolver({ timeout: timeoutMs, tries: 2 });
    resolver.setServers([serverIp]);
    try {
        return await resolver.resolve4(name);
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOTFOUND" || code === "ENODATA") return [];
        throw e;
    }
}

/**
 * What a register's DNS stand-in loaded at its last start (`start <time> <label>=<ip> ...`
 * in its log): proof that a restart happened after an edit, not only that the answer changed.
 */
export function lastRegisterDnsStart(host: TestHost): Record<string, string> | undefined {
    const file = path.join(host.dir, "dns-standin.log");
    if (!fs.existsSync(file)) return undefined;
    const start = fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => line.startsWith("start "))
        .at(-1);
    if (start === undefined) return undefined;
    return Object.fromEntries(
        start
            .split(" ")
            .slice(2)
            .map((entry) => entry.split("=") as [string, string]),
    );
}
