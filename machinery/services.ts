import { HealthCheck, Machine } from "../config";
import { render } from "./templates";

/** What "serving" means on one machine; built once at the edge from config. */
export interface ServiceCheck {
    /** The health check as words, run on the machine itself. */
    command: string[];
    /**
     * `core-answer`: the command prints an HTTP answer's body then its status on a line of
     * its own, and the core answered it (status below 500, meta.apiVersion in the body).
     * `exit-status`: the command exits 0 (a health check of the operator's).
     */
    healthy: "core-answer" | "exit-status";
    timeoutSeconds: number;
}

/**
 * A core serves when an HTTPS request for <sub>.<domain> through the machine's own nginx
 * gets an answer from the core itself: every answer of the Pryv API, errors included,
 * carries meta.apiVersion, whatever the version (a 2019 core serves /reg/service/info only
 * in dnsLess mode; /status, which Pryv's platform validation asks for, is a 404 of the API
 * on some versions, still an answer of the core). nginx's own error pages and the 503 of
 * the cold window are not. Run on the machine, against 127.0.0.1, where the certificate's
 * name cannot match an address, hence --insecure.
 */
export function serviceCheck(healthCheck: HealthCheck, domain: string, coreSubdomain: string): ServiceCheck {
    if (healthCheck.command !== undefined) return { command: healthCheck.command, healthy: "exit-status", timeoutSeconds: healthCheck.timeoutSeconds };
    const name = `${coreSubdomain}.${domain}`;
    const command = [
        "curl",
        "--silent",
        "--show-error",
        "--insecure",
        "--max-time",
        "10",
        "--resolve",
        `${name}:443:127.0.0.1`,
        "--write-out",
        "\\n%{http_code}",
        `https://${name}${healthCheck.path}`,
    ];
    return { command, healthy: "core-answer", timeoutSeconds: healthCheck.timeoutSeconds };
}

const healthValues = (check: ServiceCheck) => ({
    healthCheck: check.command,
    coreAnswer: check.healthy === "core-answer",
    timeoutSeconds: check.timeoutSeconds,
});

/** A trial run's data folders, whose files it marks as the machine's own once stopped (see services-start.sh). */
export interface OwnFiles {
    dataFolders: string[];
    migrationId: string;
}

/** Starts the core and waits until healthy; a trial run (`stopAfterwards`) stops it again, and marks what it wrote in `ownFiles`. */
export function startServicesScript(machine: Machine, check: ServiceCheck, options: { stopAfterwards: boolean; ownFiles?: OwnFiles }): string {
    return render("services-start.sh", {
        startCommand: machine.startCommand,
        stopCommand: machine.stopCommand,
        ...healthValues(check),
        stopAfterwards: options.stopAfterwards,
        ownFiles: options.stopAfterwards && options.ownFiles !== undefined ? options.ownFiles : false,
        migrationId: options.ownFiles?.migrationId,
        confRoot: machine.confRoot,
    });
}

export function stopServicesScript(machine: Machine): string {
    return render("services-stop.sh", { stopCommand: machine.stopCommand });
}

/** How nginx is started alone on source, and how the program checks that nothing else runs there then. */
export interface NginxAlone {
    startCommand: string[];
    runningCommand: string[];
    service: string;
}

/** Which change journal the cutover reads once source is stopped (started by warm round `round`), and how long a list it trusts. */
export interface JournalRead {
    round: number;
    dataFolders: string[];
    maxPaths: number;
}

/**
 * Source stopped, then its nginx alone started on the proxy file: a marker first tells
 * the undo to restart source. While nginx starts, the change journal is read (source's data
 * no longer changes). That nothing but nginx runs then is checked by source's description,
 * beside the final rounds: no folder is verified, and dest never starts, before it passes.
 */
export function stopSourceScript(source: Machine, nginx: NginxAlone, migrationId: string, journal: JournalRead): string {
    return render("source-stop.sh", {
        stopCommand: source.stopCommand,
        proxyStartCommand: nginx.startCommand,
        migrationId,
        round: journal.round,
        confRoot: source.confRoot,
        folders: journal.dataFolders,
        maxPaths: journal.maxPaths,
    });
}

/** The undo of the cutover on source, safe whether the cutover ran, ran partly or never ran. */
export function sourceBackScript(source: Machine, siteFile: string, check: ServiceCheck, migrationId: string): string {
    return render("source-back.sh", { stopCommand: source.stopCommand, startCommand: source.startCommand, siteFile, migrationId, ...healthValues(check) });
}

/** Refuses to go on unless source serves now; a live core answers at once, so the wait is short. */
export function sourceServesScript(check: ServiceCheck): string {
    return render("source-serves.sh", healthValues({ ...check, timeoutSeconds: Math.min(check.timeoutSeconds, 30) }));
}

/** Waits until the health check, run on source through its nginx, reaches dest. */
export function proxyServingScript(check: ServiceCheck): string {
    return render("proxy-serving.sh", healthValues(check));
}
