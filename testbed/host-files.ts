// Files that make one namespace look like its own machine: the /etc entries that
// `ip netns exec` bind-mounts over the real ones, the counting login shell and sshd's
// configuration.
import * as fs from "fs";
import { HostName } from "./network";

/** Container uids of Pryv.io: core/hfs/preview run as 9999, mongodb as 999. */
export const PRYV_UID = 9999;
export const MONGODB_UID = 999;
/** On dest the name mongodb belongs to another uid, so name-mapping copies go wrong visibly. */
export const DEST_MONGODB_UID = 1999;

interface Account {
    name: string;
    id: number;
    gecos: string;
}

function accountsOf(host: HostName): Account[] {
    if (host === "source") {
        return [
            { name: "pryv", id: PRYV_UID, gecos: "Pryv.io containers" },
            { name: "mongodb", id: MONGODB_UID, gecos: "MongoDB container" },
        ];
    }
    if (host === "dest") return [{ name: "mongodb", id: DEST_MONGODB_UID, gecos: "MongoDB (distribution package)" }];
    return [];
}

/**
 * Starts from the machine's own file (sshd needs its privilege separation user, tools
 * need the usual system accounts) and drops any entry that would clash with ours.
 */
function rewrite(base: string, accounts: Account[], render: (a: Account) => string, root: (fields: string[]) => string): string {
    const names = new Set(accounts.map((a) => a.name).concat(["pryv", "mongodb"]));
    const ids = new Set(accounts.map((a) => String(a.id)).concat([String(PRYV_UID)]));
    const kept = base
        .split("\n")
        .filter(Boolean)
        .flatMap((line) => {
            const fields = line.split(":");
            if (fields[0] === "root") return [root(fields)];
            if (names.has(fields[0]) || ids.has(fields[2])) return [];
            return [line];
        });
    return kept.concat(accounts.map(render)).join("\n") + "\n";
}

export function passwdFor(host: HostName, dir: string): string {
    return rewrite(
        fs.readFileSync("/etc/passwd", "utf8"),
        accountsOf(host),
        (a) => `${a.name}:x:${a.id}:${a.id}:${a.gecos}:/nonexistent:/usr/sbin/nologin`,
        () => `root:x:0:0:root:${dir}/home/root:${dir}/bin/login-shell`,
    );
}

export function groupFor(host: HostName): string {
    return rewrite(
        fs.readFileSync("/etc/group", "utf8"),
        accountsOf(host),
        (a) => `${a.name}:x:${a.id}:`,
        (fields) => fields.join(":"),
    );
}

/** The names nginx's upstreams use for the compose services, on loopback addresses. */
export const SERVICE_ADDRESSES = { core: "127.0.0.2", hfs: "127.0.0.3", preview: "127.0.0.4", audit: "127.0.0.5" } as const;

export function hostsFile(host: HostName): string {
    return [
        "127.0.0.1\tlocalhost",
        `127.0.1.1\t${host}`,
        "::1\tlocalhost ip6-localhost ip6-loopback",
        ...Object.entries(SERVICE_ADDRESSES).map(([name, ip]) => `${ip}\t${name}`),
        "",
    ].join("\n");
}

/**
 * sshd runs a user's commands as `<shell> -c <command>`, so a login shell that logs
 * its arguments counts exactly what came in over ssh. Fields: time, the arguments
 * base64-encoded and NUL-separated (multi-line commands stay one line), what the
 * client asked for when a forced command (rrsync) replaced it, and a quoted copy for
 * people reading the log.
 */
export function loginShell(dir: string): string {
    return `#!/bin/bash
# Counting shell of a test host (testbed): logs, then runs bash unchanged.
exec 9>>${dir}/commands.log
flock 9
encoded=$( (($#)) && printf '%s\\0' "$@" | base64 -w0)
requested=$([ -n "\${SSH_ORIGINAL_COMMAND+set}" ] && printf '%s' "$SSH_ORIGINAL_COMMAND" | base64 -w0)
printf '%s\\t%s\\t%s\\t%s\\n' "$EPOCHREALTIME" "$encoded" "$requested" "\${*@Q}" >&9
exec 9>&-
exec /bin/bash "$@"
`;
}

export function sshdConfig(dir: string, ip: string): string {
    return `# sshd of test host ${dir} (testbed), started inside its network namespace.
ListenAddress ${ip}:22
HostKey ${dir}/ssh_host_ed25519_key
PidFile ${dir}/run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# The home folder lives under the run folder in /tmp: group/other permissions there are ours.
StrictModes no
AuthorizedKeysFile .ssh/authorized_keys
LogLevel VERBOSE
UseDNS no
PrintMotd no
# Multiplexed connections (ControlMaster) and parallel rsyncs open many sessions at once.
MaxSessions 50
MaxStartups 100:30:200
MaxAuthTries 10
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
`;
}
