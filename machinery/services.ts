import { HealthCheck, Machine } from "../components/config";
import { render } from "./templates";

/** What "serving" means on one machine; built once at the edge from config. */
export interface ServiceCheck {
    /** The health check as words, run on the machine itself. */
    command: string[];
    timeoutSeconds: number;
}

/**
 * Pryv v1 has no /status route: a core serves when an HTTPS request for <sub>.<domain>
 * through the machine's own nginx reaches core. Run on the machine, against 127.0.0.1,
 * where the certificate's name cannot match an address, hence --insecure.
 */
export function serviceCheck(healthCheck: HealthCheck, domain: string, coreSubdomain: string): ServiceCheck {
    const name = `${coreSubdomain}.${domain}`;
    const command = healthCheck.command ?? [
        "curl",
        "--fail",
        "--silent",
        "--show-error",
        "--insecure",
        "--max-time",
        "10",
        "--resolve",
        `${name}:443:127.0.0.1`,
        `https://${name}${healthCheck.path}`,
    ];
    return { command, timeoutSeconds: healthCheck.timeoutSeconds };
}

const healthValues = (check: ServiceCheck) => ({ healthCheck: check.command, timeoutSeconds: check.timeoutSeconds });

export function startServicesScript(machine: Machine, check: ServiceCheck, options: { stopAfterwards: boolean }): string {
    return render("services-start.sh", {
        startCommand: machine.startCommand,
        stopCommand: machine.stopCommand,
        ...healthValues(check),
        stopAfterwards: options.stopAfterwards,
    });
}

export function stopServicesScript(machine: Machine): string {
    return render("services-stop.sh", { stopCommand: machine.stopCommand });
}

/** Source stopped, then its nginx alone started on the proxy file: a marker first tells the undo to restart source. */
export function stopSourceScript(source: Machine, proxyStartCommand: string[], migrationId: string): string {
    return render("source-stop.sh", { stopCommand: source.stopCommand, proxyStartCommand, migrationId });
}

/** The undo of the cutover on source, safe whether the cutover ran, ran partly or never ran. */
export function sourceBackScript(source: Machine, siteFile: string, check: ServiceCheck, migrationId: string): string {
    return render("source-back.sh", { stopCommand: source.stopCommand, startCommand: source.startCommand, siteFile, migrationId, ...healthValues(check) });
}

/** Waits until the health check, run on source through its nginx, reaches dest. */
export function proxyServingScript(check: ServiceCheck): string {
    return render("proxy-serving.sh", healthValues(check));
}
