import { defaultDataFolders, layouts } from "../../config";
import { AUDIT_TRAIL, TestHost, TestHosts } from "..";

/**
 * Where the machine is and who it is; startCommand, stopCommand and addressForPeers stay
 * the program's defaults. confRoot is not /var/pryv: the test hosts share this machine's
 * filesystem, so each one's PRYV_CONF_ROOT is a folder of the run.
 */
const machine = (host: TestHost) => ({
    host: host.ip,
    port: host.sshPort,
    user: host.user,
    hostKey: host.hostKey,
    confRoot: host.confRoot,
});

/** The program's data folders and, outside confRoot, the audit trail a 2019 core's rsyslog writes. */
export const realDataFolders = [...defaultDataFolders, AUDIT_TRAIL];

/**
 * The stack config of a migration between the docker test hosts (startTestHosts({
 * engine: "docker" })), which run Pryv.io's 2019 core shape: core.yml, run-core,
 * stop-containers, run-reg-*, <register>/dns/dns.json. Everything a real 2019 install
 * has is left to the program's defaults (startCommand, stopCommand, proxy.*,
 * healthCheck.path and its core-answer rule, the registers' commands and dnsJson,
 * the data folders in confRoot). Set here: the executor, the machines, domain,
 * destCoreIp, the registers, a shorter health check timeout (a test host's core answers
 * in seconds; a failing run should not wait 180 s per check), and the audit trail
 * added to the data folders: a 2019 core's rsyslog writes it outside confRoot
 * (/var/log/pryv/audit), so an operator lists it. The operator key is added by
 * openMigrationStack, as a secret.
 */

export function realStackConfig(hosts: TestHosts): Record<string, unknown> {
    const { source, dest } = hosts.hosts;
    const registers = (["reg-master", "reg-slave"] as const).filter((name) => hosts.hosts[name] !== undefined);
    return {
        executor: "openssh",
        source: machine(source),
        dest: machine(dest),
        domain: hosts.domain,
        coreSubdomain: hosts.subdomain,
        destCoreIp: dest.ip,
        healthCheck: { timeoutSeconds: 60 },
        dataFolders: realDataFolders,
        registers: registers.map((name) => ({ name, ...machine(hosts.hosts[name]) })),
    };
}

/**
 * realStackConfig with the program's default data folders only: for runs whose source
 * has no audit trail (the benchmark writes its own dataset) or that count steps per
 * folder (the fault suite's engine-killed matrix).
 */
export const realStackConfigWithDefaultFolders = (hosts: TestHosts): Record<string, unknown> => ({
    ...realStackConfig(hosts),
    dataFolders: defaultDataFolders,
});

/**
 * The stack config of a migration between docker test hosts laid out as Pryv.io v1
 * (startTestHosts({ engine: "docker", layout: "pryv-v1" })): layout pryv-v1 and its
 * defaults, with hfs's own data folder added as a 1.6 operator does (the test hosts keep
 * one), and the audit trail.
 */
export const v1StackConfig = (hosts: TestHosts): Record<string, unknown> => ({
    ...realStackConfig(hosts),
    layout: "pryv-v1",
    dataFolders: [...layouts["pryv-v1"].dataFolders, "pryv/hfs/data", AUDIT_TRAIL],
});
