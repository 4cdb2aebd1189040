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

export function startServicesScript(machine: Machine, check: ServiceCheck, options: { stopAfterwards: boolean }): string {
    return render("services-start.sh", {
        startCommand: machine.startCommand,
        stopCommand: machine.stopCommand,
        healthCheck: check.command,
        timeoutSeconds: check.timeoutSeconds,
        stopAfterwards: options.stopAfterwards,
    });
}

export function stopServicesScript(machine: Machine): string {
    return render("services-stop.sh", { stopCommand: machine.stopCommand });
}
