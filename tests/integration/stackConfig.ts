import { TestHost, TestHosts } from "../hosts";

const machine = (host: TestHost) => ({ host: host.ip, port: host.sshPort, user: host.user, hostKey: host.hostKey, confRoot: host.confRoot });

/**
 * The stack config of a migration between the test hosts (openssh executor). What
 * differs from a real install's defaults is how nginx is tested, started alone and told
 * apart from the other services on source: the fixture's scripts and nginx itself in
 * place of docker-compose.
 */
export function testHostsConfig(hosts: TestHosts): Record<string, unknown> {
    const { source, dest } = hosts.hosts;
    const nginxConf = `${source.confRoot}/core/nginx/conf`;
    const registers = (["reg-master", "reg-slave"] as const).filter((name) => hosts.hosts[name] !== undefined);
    return {
        executor: "openssh",
        source: machine(source),
        dest: machine(dest),
        domain: hosts.domain,
        coreSubdomain: hosts.subdomain,
        destCoreIp: dest.ip,
        healthCheck: { timeoutSeconds: 60 },
        proxy: {
            testCommand: ["nginx", "-t", "-q", "-c", `${nginxConf}/nginx.conf`],
            startCommand: [`${source.confRoot}/run-core`, "reverse_proxy"],
            runningCommand: [`${source.confRoot}/running-services`],
            trustedCertificate: `${nginxConf}/secret/${hosts.domain}-bundle.crt`,
        },
        registers: registers.map((name) => ({ name, ...machine(hosts.hosts[name]) })),
    };
}
