// One host's private folder and its PRYV_CONF_ROOT, laid out the way a 2019 Pryv.io
// install leaves them (cores: folders, owners, nginx configuration, run-core and
// stop-containers; registers: see register.ts), with fixture processes in place of
// the containers.
import * as fs from "fs";
import * as path from "path";
import { groupFor, hostsFile, loginShell, MONGODB_UID, passwdFor, PRYV_UID, sshdConfig } from "./host-files";
import { HostName, hostIp, namespaceOf } from "./network";
import { nginxConf, site443, site80 } from "./nginx-conf";
import { isRegister, layOutRegister } from "./register";
import { writeFixtureScripts } from "./fixture-scripts";
import { Certificate } from "./tls";

const FIXTURE_SOURCE = path.join(__dirname, "fixture");
const FIXTURE_FILES = ["pryv-standin.js", "database-standin.js", "services.sh"];

export interface LayoutOptions {
    runDir: string;
    domain: string;
    subdomain: string;
    certificate: Certificate;
    operatorPublicKey: string;
}
export interface HostFolders {
    dir: string;
    confRoot: string;
}

function write(file: string, content: string, mode = 0o644): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode); // writeFileSync's mode is filtered by the umask
}

/** What the install's ensure-permissions-core does: container uids, numerically. */
function ownedFolder(folder: string, uid: number): void {
    fs.mkdirSync(folder, { recursive: true });
    fs.chownSync(folder, uid, uid);
}

function coreConfRoot(host: HostName, dir: string, confRoot: string, o: LayoutOptions): void {
    const core = `${confRoot}/core`;
    for (const service of ["core", "hfs"]) {
        ownedFolder(`${core}/${service}`, PRYV_UID);
        ownedFolder(`${core}/${service}/data`, PRYV_UID);
        ownedFolder(`${core}/${service}/log`, PRYV_UID);
    }
    ownedFolder(`${core}/preview`, PRYV_UID);
    ownedFolder(`${core}/preview/log`, PRYV_UID);
    ownedFolder(`${core}/mongodb`, MONGODB_UID);
    ownedFolder(`${core}/mongodb/data`, MONGODB_UID);
    ownedFolder(`${core}/mongodb/log`, MONGODB_UID);
    ownedFolder(`${core}/influxdb/data`, 0);
    ownedFolder(`${core}/nginx/log`, 0);
    const conf = `${core}/nginx/conf`;
    write(`${conf}/nginx.conf`, nginxConf(o.domain, confRoot, dir));
    write(`${conf}/site-443.conf`, site443(o.domain, confRoot));
    write(`${conf}/site-80.conf`, site80(o.domain));
    write(`${conf}/secret/${o.domain}-bundle.crt`, o.certificate.certPem);
    write(`${conf}/secret/${o.domain}.key`, o.certificate.keyPem, 0o600);
    for (const sub of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) fs.mkdirSync(`${dir}/nginx-tmp/${sub}`, { recursive: true });

    for (const f of FIXTURE_FILES) fs.copyFileSync(path.join(FIXTURE_SOURCE, f), `${dir}/fixture/${f}`);
    writeFixtureScripts(host, dir, confRoot, {}, [
        { name: "run-core", purpose: "starts the core services, or those named", call: 'run_core "$@"' },
        { name: "stop-containers", purpose: "stops every service, nginx included", call: "stop_containers" },
        { name: "running-services", purpose: "lists the services that run, one per line", call: "running_services" },
    ]);
}

/** Builds dir and confRoot, and the /etc/netns entries `ip netns exec` mounts over /etc. */
export function layOutHost(host: HostName, ip: string, o: LayoutOptions): HostFolders {
    const dir = path.join(o.runDir, host);
    const confRoot = `${dir}/var/pryv`;
    for (const sub of ["bin", "home/root/.ssh", "run", "logs", "fixture", "var/pryv"]) {
        fs.mkdirSync(`${dir}/${sub}`, { recursive: true });
    }
    write(`${dir}/bin/login-shell`, loginShell(dir), 0o755);
    write(`${dir}/commands.log`, "");
    write(`${dir}/home/root/.ssh/authorized_keys`, o.operatorPublicKey.trim() + "\n", 0o600);
    write(`${dir}/sshd_config`, sshdConfig(dir, ip));

    const etc = `/etc/netns/${namespaceOf(host)}`;
    write(`${etc}/passwd`, passwdFor(host, dir));
    write(`${etc}/group`, groupFor(host));
    write(`${etc}/hosts`, hostsFile(host));

    // Registers start out pointing the core's subdomain at source, as before a migration.
    if (isRegister(host)) {
        layOutRegister(host, dir, confRoot, { domain: o.domain, subdomain: o.subdomain, coreIp: hostIp("source") }, FIXTURE_SOURCE);
    } else {
        coreConfRoot(host, dir, confRoot, o);
    }
    return { dir, confRoot };
}
