// The files a 2019 Pryv.io install keeps in ${PRYV_CONF_ROOT} to run its containers, for
// the docker test hosts: core.yml with the services and links of Pryv's core template
// (pryv/config-template-pryv.io, pryv.io/cluster/core.yml, 2019), reg-master.yml /
// reg-slave.yml with the register's DNS container, and the scripts beside them as Pryv
// ships them (run-core, stop-containers, ensure-permissions-core, run-reg-*). Images
// are the one built by build-image.sh, tagged once per service; the Node services run
// the fixture with the machine's node binary mounted in.
import { MONGODB_UID, PRYV_UID } from "../host-files";

/** Where a container finds what the machine lends it. */
export const CONTAINER_NODE = "/usr/local/bin/node";
const CONTAINER_FIXTURE = "/app/bin";
const CONTAINER_NODE_MODULES = "/app/node_modules";

export const CORE_SERVICES = ["reverse_proxy", "core", "hfs", "preview", "core_audit", "mongodb", "influxdb"] as const;
export type CoreService = (typeof CORE_SERVICES)[number];
/** Image names of the services (one image, several tags: `docker images` reads like an install's). */
export const SERVICE_IMAGES = ["nginx", "core", "hfs", "preview", "audit", "mfa", "mongodb", "influxdb", "dns", "config-follower", "config-leader"] as const;

export interface ComposeContext {
    machine: string;
    ip: string;
    confRoot: string;
    /** The host's private folder: its copy of the fixture is mounted from there. */
    dir: string;
    imageTag: string;
    nodeBinary: string;
    nodeModules: string;
}

const image = (c: ComposeContext, name: (typeof SERVICE_IMAGES)[number]): string => `"pryvmig/${name}:${c.imageTag}"`;

export function nodeService(c: ComposeContext, service: "core" | "hfs" | "preview" | "audit" | "mfa", ports: number[], env: string[]): string {
    return `    image: ${image(c, service)}
    command: ["node", "${CONTAINER_FIXTURE}/pryv-container.js"]
    user: "${PRYV_UID}:${PRYV_UID}"
    environment:
      - PRYV_SERVICE=${service}
      - PRYV_MACHINE=${c.machine}
      - PORTS=${ports.join(",")}
      - NODE_PATH=${CONTAINER_NODE_MODULES}
${env.map((e) => `      - ${e}`).join("\n")}`;
}

export const lent = (c: ComposeContext): string => `      - ${c.nodeBinary}:${CONTAINER_NODE}:ro
      - ${c.dir}/fixture/:${CONTAINER_FIXTURE}/:ro
      - ${c.nodeModules}/:${CONTAINER_NODE_MODULES}/:ro`;

const CORE_PORTS = [3000, 3001, 3002, 3003, 3004, 3005];

export function coreYml(c: ComposeContext): string {
    return `# \${PRYV_CONF_ROOT}/core.yml of test host ${c.machine} (testbed/docker): the services and
# links of Pryv.io's 2019 core template, on images built on this machine. reverse_proxy
# links core, hfs, preview (and core_audit, which this install's site-443.conf names
# audit); they link mongodb and influxdb: \`up -d reverse_proxy\` starts them all,
# \`up -d --no-deps reverse_proxy\` nginx alone.
version: '3'
services:

  reverse_proxy:
    image: ${image(c, "nginx")}
    command: ["nginx", "-g", "daemon off;"]
    networks:
      - frontend
    # On every address of the machine, as Pryv's template publishes them: the program's
    # default health check asks nginx on 127.0.0.1.
    ports:
      - "80:80"
      - "443:443"
    volumes:
      - ./core/nginx/conf/:/app/conf/:ro
      # The system's CA bundle as nginx sees it (the proxy file's default
      # proxy_ssl_trusted_certificate): a real install's certificate comes from a CA that
      # bundle holds; here the run's own certificate is that CA.
      - ${c.dir}/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro
      - ./core/nginx/log/:/app/log/
      # site-443.conf names its log files by their path on the machine.
      - ./core/nginx/log/:${c.confRoot}/core/nginx/log/
      - ./core/nginx/conf/:${c.confRoot}/core/nginx/conf/:ro
    links:
      - core
      - hfs
      - preview
      - core_audit:audit
    restart: always

  core_audit:
${nodeService(c, "audit", [3000], [])}
    networks:
      - frontend
    links:
      - core
    volumes:
      - ./core/audit/log/:/app/log/
${lent(c)}
    restart: always

  core:
${nodeService(c, "core", CORE_PORTS, ["MONGODB_URL=mongodb://mongodb:27017/pryv-node"])}
    networks:
      - frontend
      - backend
    volumes:
      - ./core/core/data/:/app/data/
      - ./core/core/log/:/app/log/
${lent(c)}
    links:
      - mongodb
    restart: always

  preview:
${nodeService(c, "preview", [9000], ["MONGODB_URL=mongodb://mongodb:27017/pryv-node"])}
    networks:
      - frontend
      - backend
    volumes:
      - ./core/core/data/:/app/data/
      - ./core/preview/log/:/app/log/
${lent(c)}
    links:
      - mongodb
    restart: always

  hfs:
${nodeService(c, "hfs", CORE_PORTS, ["MONGODB_URL=mongodb://mongodb:27017/pryv-node", "INFLUXDB_URL=http://influxdb:8086"])}
    networks:
      - frontend
      - backend
    volumes:
      - ./core/hfs/data/:/app/data/
      - ./core/hfs/log/:/app/log/
${lent(c)}
    links:
      - influxdb
      - mongodb
    restart: always

  # MongoDB's wire protocol, pages on disk: FerretDB v1.24.2 on SQLite, one
  # <database>.sqlite file (with -wal and -shm while it runs) per database.
  mongodb:
    image: ${image(c, "mongodb")}
    command: ["ferretdb", "--handler=sqlite", "--sqlite-url=file:/data/db/", "--listen-addr=0.0.0.0:27017", "--telemetry=disable", "--state-dir=/tmp", "--log-level=warn"]
    user: "${MONGODB_UID}:${MONGODB_UID}"
    networks:
      - backend
    volumes:
      - ./core/mongodb/data/:/data/db/
      - ./core/mongodb/log/:/app/log/
    restart: always

  influxdb:
    image: ${image(c, "influxdb")}
    command: ["influxd", "-config", "/etc/influxdb/influxdb.conf"]
    environment:
      - INFLUXDB_REPORTING_DISABLED=true
      - INFLUXDB_HTTP_LOG_ENABLED=false
      # The default (10m) keeps a test's points in the WAL only: written to TSM files
      # soon, they give influx_inspect verify something to check.
      - INFLUXDB_DATA_CACHE_SNAPSHOT_WRITE_COLD_DURATION=2s
    networks:
      - backend
    volumes:
      - ./core/influxdb/data/:/var/lib/influxdb
    restart: always

networks:
  frontend:
    driver: bridge
  backend:
    driver: bridge
`;
}

/**
 * A register's compose file: only its DNS server (the fixture's dns-standin.js), which
 * reads <register>/dns/dns.json at start and answers on 53/udp of the host's address.
 */
export function registerYml(c: ComposeContext, register: string): string {
    return `# \${PRYV_CONF_ROOT}/${register}.yml of test host ${c.machine} (testbed/docker): the DNS
# container of Pryv.io's 2019 register template (register, redis, mail and nginx left out).
version: '3'
services:

  dns:
    image: ${image(c, "dns")}
    command: ["sh", "-c", "exec node ${CONTAINER_FIXTURE}/dns-standin.js /app/conf/dns.json \\"$$(hostname -i)\\" /app/log/dns-standin.log /tmp/dns.pid"]
    environment:
      - NODE_PATH=${CONTAINER_NODE_MODULES}
    ports:
      - "${c.ip}:53:53/udp"
    # One network (the template's dns also joins backend, for redis, left out here): the
    # stand-in listens on the one address \`hostname -i\` gives.
    networks:
      - frontend
    volumes:
      - ./${register}/dns/:/app/conf/:ro
      - ${c.dir}/dns-standin.log:/app/log/dns-standin.log
${lent(c)}
    restart: always

networks:
  frontend:
    driver: bridge
`;
}

/** nginx.conf for the reverse_proxy container: the install's files under /app/conf. */
export function containerNginxConf(domain: string): string {
    return `# Test host fixture (testbed/docker): nginx.conf of the reverse_proxy container,
# which mounts core/nginx/conf at /app/conf; started with -g 'daemon off;'.
user root;
worker_processes 1;
pid /run/nginx.pid;
error_log /app/log/error.log;

events {
  worker_connections 512;
}

http {
  default_type application/octet-stream;
  sendfile on;
  keepalive_timeout 65;
  server_names_hash_bucket_size 64;
  access_log /app/log/access.log;

  ssl_certificate /app/conf/secret/${domain}-bundle.crt;
  ssl_certificate_key /app/conf/secret/${domain}.key;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache shared:SSL:1m;

  include /app/conf/site*.conf;
}
`;
}

const header = (script: string, machine: string, yml: string): string => `#!/usr/bin/env bash
# \${PRYV_CONF_ROOT}/${script} of test host ${machine} (testbed/docker), as Pryv.io's 2019
# template ships it, except that it changes into its own folder first (the template asks
# the operator to) and passes its arguments on.
cd "$(dirname "$0")" || exit 1
[[ -e ${yml} ]] || { echo >&2 "Please cd into the configuration directory before running this script."; exit 1; }
`;

export function runCoreScript(machine: string): string {
    return `${header("run-core", machine, "core.yml")}
echo "Running Pryv/core component."
exec docker-compose -f core.yml up -d "$@"
`;
}

export function runRegisterScript(machine: string, register: string): string {
    return `${header(`run-${register}`, machine, `${register}.yml`)}
echo "Running Pryv/reg component."
exec docker-compose -f ${register}.yml up -d "$@"
`;
}

export const STOP_CONTAINERS = `#!/usr/bin/env bash
# \${PRYV_CONF_ROOT}/stop-containers as Pryv.io's 2019 template ships it: every container of the machine.
docker stop $(docker ps -a -q)
`;

export const ENSURE_PERMISSIONS_CORE = `#!/usr/bin/env bash
# \${PRYV_CONF_ROOT}/ensure-permissions-core as Pryv.io's 2019 template ships it (test hosts: testbed/docker).
set -e
cd "$(dirname "$0")"

echo "Ensuring data and log folders permissions for core..."
echo "core/core"
chown -R ${PRYV_UID}:${PRYV_UID} ./core/core/data
chown -R ${PRYV_UID}:${PRYV_UID} ./core/core/log
echo "core/hfs"
chown -R ${PRYV_UID}:${PRYV_UID} ./core/hfs/data
chown -R ${PRYV_UID}:${PRYV_UID} ./core/hfs/log
echo "core/preview"
chown -R ${PRYV_UID}:${PRYV_UID} ./core/preview/log
echo "core/mongodb"
chown -R ${MONGODB_UID}:${MONGODB_UID} ./core/mongodb/data
chown -R ${MONGODB_UID}:${MONGODB_UID} ./core/mongodb/log
echo "Done!"
`;
