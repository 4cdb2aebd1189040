// A docker test host laid out as Pryv.io v1.6-1.9 installs are (layout pryv-v1): the
// 2019 host's services under ${PRYV_CONF_ROOT}/pryv/<service>/... in pryv/pryv.yml, with
// Pryv's container names and named networks, core keeping each user's events in a SQLite
// file of its own as 1.7+ does, run-pryv / stop-pryv / restart-pryv, and a
// config follower on every machine (config-follower/config-follower.yml) which writes
// the machine's conf/ files from the config leader at its start and on a notify. The
// leader runs on reg-master (config-leader/config-leader.yml), reading
// config-leader/conf/platform.yml at every request; the registers' DNS reads the core's
// address from the dns.json their follower writes (net.hostings). Scripts as Pryv's
// templates ship them (pryv/config-template-pryv.io, cluster 1.9), PRYV_CONF_ROOT set to
// the host's own confRoot.
import * as fs from "fs";
import * as path from "path";
import { hostIp, HostName } from "../network";
import { isRegister, registerDnsJson, RegisterName } from "../register";
import { site443 } from "../nginx-conf";
import { ComposeContext, coreYml, lent, nodeService, registerYml } from "./compose";

const FIXTURE_SOURCE = path.join(__dirname, "..", "fixture");
/** Where the config leader listens on reg-master, and the follower on every machine (inside its container). */
export const LEADER_PORT = 7000;
const FOLLOWER_PORT = 6000;
/** Where v1's mfa service listens (Pryv's template: upstream mfa_server, mfa:7000). */
const MFA_PORT = 7000;
/** Pryv's container names: pryvio_<service>, nginx's pryvio_nginx. */
const containerName = (service: string): string => `pryvio_${service === "reverse_proxy" ? "nginx" : service === "core_audit" ? "audit" : service}`;

/** The leader's platform.yml of a test platform, as Pryv's 1.6+ template lays it out: the core in hosting1, another in hosting2. */
export function platformYml(o: { domain: string; subdomain: string; coreIp: string }): string {
    return `vars:
  MACHINES_AND_PLATFORM_SETTINGS:
    name: "Machines and platform settings"
    settings:
      DOMAIN:
        value: ${o.domain}
        description: "Domain and name of the platform"
      REGISTER_ADMIN_KEY:
        value: a-register-admin-key-of-the-platform
        description: "Admin Key for register machine. Please set a strong cryptographic key."
      HOSTINGS_AND_CORES:
        description: "Defines the distribution of cores among the hostings providers"
        value:
          hosting1:
            ${o.subdomain}: 
              ip: ${o.coreIp}
          hosting2:
            co2:
              ip: 10.213.7.30
`;
}

/**
 * site-443.conf as the leader serves it to every core: the 2019 file, logging where the
 * container mounts its log folder, plus Pryv v1's upstreams of the mfa service (/auth/login
 * rewritten to its /login, /mfa/) and of the config follower (/notify), as in Pryv's
 * template. nginx resolves an upstream's host when it starts: the follower's only while
 * its container runs on the shared network.
 */
export const v1Site443 = (domain: string): string =>
    site443(domain, "/CONF_ROOT")
        .split("/CONF_ROOT/core/nginx/log/")
        .join("/app/log/")
        .replace(
            "\nserver {\n",
            `\nupstream mfa_server {\n  server mfa:${MFA_PORT} max_fails=3 fail_timeout=30s;\n}\n\n` +
                `upstream follower_server {\n  server config-follower:${FOLLOWER_PORT} max_fails=3 fail_timeout=30s;\n}\n\nserver {\n`,
        )
        .replace(
            "\n  location / {\n",
            "\n  location /auth/login {\n    proxy_pass http://mfa_server/login;\n  }\n\n  location /mfa/ {\n    proxy_pass http://mfa_server/mfa/;\n  }\n\n" +
                "  location /notify {\n    proxy_pass http://follower_server;\n  }\n\n  location / {\n",
        );

/** A register's dns.json template on the leader: the core's address comes from platform.yml (net.hostings), not from staticDataInDomain. */
function registerDnsTemplate(domain: string, subdomain: string): string {
    const file = JSON.parse(registerDnsJson({ domain, subdomain, coreIp: "0.0.0.0" })) as { dns: { staticDataInDomain: Record<string, unknown> }; net: object };
    delete file.dns.staticDataInDomain[subdomain];
    file.net = { ...file.net, hostings: "HOSTINGS_PLACEHOLDER" };
    return `${JSON.stringify(file, null, 2)}\n`.replace('"HOSTINGS_PLACEHOLDER"', "HOSTINGS_AND_CORES");
}

/** Pryv 1.9's compose files: every path under ${PRYV_CONF_ROOT}, container names, the networks the follower shares, core's per-user SQLite files. */
function toV1Compose(yml: string, c: ComposeContext): string {
    const body = yml
        .replace("      - PRYV_SERVICE=core\n", "      - PRYV_SERVICE=core\n      - PRYV_USER_SQLITE=1\n")
        .split("./core/")
        .join("${PRYV_CONF_ROOT}/pryv/")
        .split(`${c.confRoot}/core/`)
        .join("${PRYV_CONF_ROOT}/pryv/")
        .replace(/^ {2}([a-z_]+):\n/gm, (line: string, service: string) => `${line}    container_name: ${containerName(service)}\n`)
        .replace(/\nnetworks:\n[\s\S]*$/, "\n");
    return `${body.replace(/^version: '3'$/m, "version: '3.5'")}${NETWORKS}`;
}

/** v1's mfa service (the 2019 core had none), which nginx links: its site file's mfa_server resolves only while it runs. */
const withMfa = (yml: string, c: ComposeContext): string =>
    yml.replace("      - core_audit:audit\n", "      - core_audit:audit\n      - mfa\n").replace(
        "\n  core:\n",
        `\n  mfa:\n${nodeService(c, "mfa", [MFA_PORT], [])}
    networks:
      - frontend
    volumes:
      - ./core/mfa/log/:/app/log/
${lent(c)}
    links:
      - core
    restart: always

  core:
`,
    );

const NETWORKS = `networks:
  frontend:
    driver: bridge
    name: pryv_frontend
  backend:
    driver: bridge
    name: pryv_backend
`;

function followerYml(c: ComposeContext, role: string): string {
    return `# \${PRYV_CONF_ROOT}/config-follower/config-follower.yml of test host ${c.machine} (testbed/docker/v1.ts).
version: '3.5'
services:
  config-follower:
    image: "pryvmig/config-follower:${c.imageTag}"
    container_name: pryvio_config_follower
    command: ["node", "/app/bin/config-follower-standin.js", "http://${hostIp("reg-master")}:${LEADER_PORT}", "${role}", "/app/pryv", "${FOLLOWER_PORT}"]
    networks:
      - frontend
      - backend
    volumes:
      - ../pryv:/app/pryv/
      - ${c.dir}/docker.sock:/var/run/docker.sock
${lent(c)}
    restart: always
    environment:
      - PRYV_CONF_ROOT
      - NODE_PATH=/app/node_modules
${NETWORKS}`;
}

function leaderYml(c: ComposeContext): string {
    return `# \${PRYV_CONF_ROOT}/config-leader/config-leader.yml of test host ${c.machine} (testbed/docker/v1.ts).
version: '3.5'
services:
  config-leader:
    image: "pryvmig/config-leader:${c.imageTag}"
    container_name: pryvio_config_leader
    command: ["node", "/app/bin/config-leader-standin.js", "/app/conf/platform.yml", "/app/data", "${LEADER_PORT}"]
    ports:
      - "${c.ip}:${LEADER_PORT}:${LEADER_PORT}"
    volumes:
      - ./conf/:/app/conf/:ro
      - ./data/:/app/data/:ro
${lent(c)}
    restart: always
    environment:
      - NODE_PATH=/app/node_modules
`;
}

/** Pryv's scripts: each exports PRYV_CONF_ROOT, checks its compose file, runs docker-compose on it. */
function script(confRoot: string, file: string, what: string, commands: string[]): string {
    return `#!/usr/bin/env bash
# As Pryv.io 1.9's template ships it (test hosts: testbed/docker/v1.ts), PRYV_CONF_ROOT this host's.
export PRYV_CONF_ROOT="${confRoot}"
export HOSTNAME=$HOSTNAME

[[ -e \${PRYV_CONF_ROOT}/${file} ]] || { echo >&2 "The file \${PRYV_CONF_ROOT}/${file} was not found."; exit 1; }

echo "${what}"
${commands.map((command) => `docker-compose -f \${PRYV_CONF_ROOT}/${file} ${command}`).join("\n")}
`;
}

function write(file: string, content: string, mode = 0o644): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode);
}

export interface V1Platform {
    domain: string;
    subdomain: string;
}

/**
 * Turns a docker host laid out in Pryv's 2019 shape (and its sample data) into a v1 one.
 * Runs after the sample data is written, before anything starts.
 */
export function convertToV1(name: HostName, c: ComposeContext, platform: V1Platform): void {
    const root = c.confRoot;
    for (const file of ["fixture/config-follower-standin.js", "fixture/config-leader-standin.js"]) {
        fs.copyFileSync(path.join(FIXTURE_SOURCE, path.basename(file)), `${c.dir}/${file}`);
    }
    const scripts = (file: string, component: string, prefix: string) => {
        write(`${root}/run-${prefix}`, script(root, file, `Running Pryv/${component} component.`, ["up -d"]), 0o755);
        write(`${root}/stop-${prefix}`, script(root, file, `Stopping Pryv/${component} component.`, ["down"]), 0o755);
        write(`${root}/restart-${prefix}`, script(root, file, `Running Pryv/${component} component.`, ["down", "up -d"]), 0o755);
    };
    const role = isRegister(name) ? name : "core";
    write(`${root}/config-follower/config-follower.yml`, followerYml(c, role));
    scripts("config-follower/config-follower.yml", "config-follower", "config-follower");
    if (isRegister(name)) {
        write(`${root}/pryv/pryv.yml`, toV1Compose(registerYml(c, name).split(`./${name}/dns/`).join("./core/dns/conf/"), c));
        for (const file of [`${name}.yml`, `run-${name}`]) fs.rmSync(`${root}/${file}`, { force: true });
        fs.rmSync(`${root}/${name}`, { recursive: true, force: true });
        if (name === "reg-master") layOutLeader(c, platform);
    } else {
        fs.renameSync(`${root}/core`, `${root}/pryv`);
        write(`${root}/pryv/nginx/conf/site-443.conf`, v1Site443(platform.domain));
        write(`${root}/pryv/pryv.yml`, toV1Compose(withMfa(coreYml(c), c), c));
        for (const file of ["core.yml", "run-core", "ensure-permissions-core"]) fs.rmSync(`${root}/${file}`, { force: true });
    }
    scripts("pryv/pryv.yml", isRegister(name) ? "register" : "core", "pryv");
    fs.rmSync(`${root}/stop-containers`, { force: true });
}

/** The config leader on reg-master: platform.yml naming source as the core, every role's templates. */
function layOutLeader(c: ComposeContext, platform: V1Platform): void {
    const leader = `${c.confRoot}/config-leader`;
    write(`${leader}/config-leader.yml`, leaderYml(c));
    write(`${leader}/conf/platform.yml`, platformYml({ ...platform, coreIp: hostIp("source") }));
    write(`${leader}/data/core/nginx/conf/site-443.conf`, v1Site443(platform.domain));
    for (const register of ["reg-master", "reg-slave"] as RegisterName[]) {
        write(`${leader}/data/${register}/dns/conf/dns.json`, registerDnsTemplate(platform.domain, platform.subdomain));
    }
    write(`${c.confRoot}/run-config-leader`, script(c.confRoot, "config-leader/config-leader.yml", "Running Pryv/config-leader component.", ["up -d"]), 0o755);
}

/**
 * Starts a v1 host as an operator does: reg-master's leader first (startV1Leader), then on
 * every machine its follower, which writes its conf/ files, then its services.
 */
export const v1Start = (confRoot: string): string => `${confRoot}/run-config-follower >/dev/null 2>&1 || exit 1
for i in $(seq 150); do docker logs pryvio_config_follower 2>&1 | grep -q '^listening' && break; sleep 0.2; done
docker logs pryvio_config_follower 2>&1 | grep -q '^listening' || { docker logs pryvio_config_follower >&2; exit 1; }
${confRoot}/run-pryv >/dev/null 2>&1`;

export const v1LeaderStart = (confRoot: string): string => `${confRoot}/run-config-leader >/dev/null 2>&1 || exit 1
for i in $(seq 150); do curl -fsS -H 'Authorization: core' http://${hostIp("reg-master")}:${LEADER_PORT}/conf >/dev/null 2>&1 && exit 0; sleep 0.2; done
echo "the config leader does not answer" >&2
exit 1`;

/** Stops every service of a v1 machine but its follower, as layout pryv-v1's stop command does (stop-pryv's down fails while the follower runs). */
export const v1StopServices = (confRoot: string): string => `env PRYV_CONF_ROOT=${confRoot} docker-compose -f ${confRoot}/pryv/pryv.yml rm --stop --force`;
