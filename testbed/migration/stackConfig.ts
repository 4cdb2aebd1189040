import { defaultDataFolders } from "../../config";
import { TestHosts } from "..";
import { realStackConfig } from "./realStackConfig";

/**
 * The stack config of a migration between the process-based test hosts (the fixture's
 * processes in place of containers). What differs from the docker test hosts, which take
 * the program's defaults (realStackConfig), is how nginx is tested, started alone and
 * told apart from the other services on source: the fixture's scripts and nginx itself
 * in place of docker-compose; and the data folders, the program's defaults: the audit
 * trail is migrated on the docker hosts, and each folder more is a dozen steps more for
 * the fault suite to kill the engine at.
 */
export function testHostsConfig(hosts: TestHosts): Record<string, unknown> {
    const { source } = hosts.hosts;
    const nginxConf = `${source.confRoot}/core/nginx/conf`;
    return {
        ...realStackConfig(hosts),
        dataFolders: defaultDataFolders,
        proxy: {
            testCommand: ["nginx", "-t", "-q", "-c", `${nginxConf}/nginx.conf`],
            startCommand: [`${source.confRoot}/run-core`, "reverse_proxy"],
            runningCommand: [`${source.confRoot}/running-services`],
            trustedCertificate: `${nginxConf}/secret/${hosts.domain}-bundle.crt`,
        },
    };
}
