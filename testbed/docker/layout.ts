// What a docker test host adds to the layout of testbed/layout.ts: the compose
// files and Pryv's scripts in place of the process fixture's run-core and
// stop-containers, the reverse_proxy container's nginx.conf, DOCKER_HOST for the
// host's sessions, and its own Docker engine with the image loaded.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { MONGODB_UID, PRYV_UID } from "../host-files";
import { isRegister } from "../register";
import type { HostName } from "../network";
import {
    ComposeContext,
    containerNginxConf,
    coreYml,
    ENSURE_PERMISSIONS_CORE,
    registerYml,
    runCoreScript,
    runRegisterScript,
    STOP_CONTAINERS,
} from "./compose";
import { DockerDaemon, loadImage, startDockerDaemon } from "./daemon";

const FIXTURE_SOURCE = path.join(__dirname, "..", "fixture");
const BUILD_IMAGE = path.join(__dirname, "build-image.sh");

export interface DockerImage {
    tar: string;
    /** The key build-image.sh gives the tar: every service image is tagged with it. */
    tag: string;
}

/** Builds the image tar once per machine (cached), or finds it; seconds when cached. */
export function ensureImage(): DockerImage {
    const r = spawnSync("bash", [BUILD_IMAGE], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    const tar = (r.stdout ?? "").trim().split("\n").at(-1) ?? "";
    if (r.status !== 0 || !fs.existsSync(tar)) throw new Error(`${BUILD_IMAGE} failed (exit ${r.status}); see its output above`);
    const match = path.basename(tar).match(/^pryvmig-base-([0-9a-f]+)\.tar$/);
    if (!match) throw new Error(`unexpected image tar name ${tar}`);
    return { tar, tag: match[1] };
}

function write(file: string, content: string, mode = 0o644): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode);
}

function ownedFolder(folder: string, uid: number): void {
    fs.mkdirSync(folder, { recursive: true });
    fs.chownSync(folder, uid, uid);
}

/** The project's node_modules, mounted read-only for the Node services (mongodb, dns2). */
function nodeModules(): string {
    return path.dirname(path.dirname(require.resolve("mongodb/package.json")));
}

/** What a host's compose files need to know of it. */
export function composeContext(host: { name: HostName; ip: string; confRoot: string; dir: string }, image: DockerImage): ComposeContext {
    return {
        machine: host.name,
        ip: host.ip,
        confRoot: host.confRoot,
        dir: host.dir,
        imageTag: image.tag,
        nodeBinary: process.execPath,
        nodeModules: nodeModules(),
    };
}

export interface DockerHostOptions {
    name: HostName;
    namespace: string;
    octet: number;
    ip: string;
    dir: string;
    confRoot: string;
    domain: string;
    image: DockerImage;
}

/**
 * Writes the docker files over the process fixture's, sets DOCKER_HOST for sshd's
 * sessions, starts the host's dockerd and loads the image. Runs before sshd starts.
 */
export async function prepareDockerHost(o: DockerHostOptions): Promise<DockerDaemon> {
    const context = composeContext(o, o.image);
    const stopContainers = `${o.confRoot}/stop-containers`;
    if (isRegister(o.name)) {
        write(`${o.confRoot}/${o.name}.yml`, registerYml(context, o.name));
        write(`${o.confRoot}/run-${o.name}`, runRegisterScript(o.name, o.name), 0o755);
        write(`${o.dir}/dns-standin.log`, "");
    } else {
        write(`${o.confRoot}/core.yml`, coreYml(context));
        write(`${o.confRoot}/run-core`, runCoreScript(o.name), 0o755);
        write(`${o.confRoot}/ensure-permissions-core`, ENSURE_PERMISSIONS_CORE, 0o755);
        write(`${o.confRoot}/core/nginx/conf/nginx.conf`, containerNginxConf(o.domain));
        // What reverse_proxy trusts as the system's CA bundle (compose.ts): the run's certificate.
        fs.copyFileSync(`${o.confRoot}/core/nginx/conf/secret/${o.domain}-bundle.crt`, `${o.dir}/ca-certificates.crt`);
        fs.copyFileSync(path.join(FIXTURE_SOURCE, "pryv-container.js"), `${o.dir}/fixture/pryv-container.js`);
        ownedFolder(`${o.confRoot}/core/audit`, PRYV_UID);
        ownedFolder(`${o.confRoot}/core/audit/log`, PRYV_UID);
        ownedFolder(`${o.confRoot}/core/mongodb/data`, MONGODB_UID);
    }
    write(stopContainers, STOP_CONTAINERS, 0o755);

    const daemon = await startDockerDaemon(o.namespace, o.dir, o.octet);
    // sshd runs every session's command through the host's login shell: SetEnv puts the
    // host's own engine in its environment, as on a machine whose docker is local.
    fs.appendFileSync(`${o.dir}/sshd_config`, `# The host's own Docker engine (testbed/docker).\nSetEnv DOCKER_HOST=${daemon.dockerHost}\n`);
    write(`${o.dir}/home/root/.bashrc`, `export DOCKER_HOST=${daemon.dockerHost}\n`);
    await loadImage(daemon, o.image.tar, o.image.tag);
    return daemon;
}

/**
 * The process fixture's sample data holds imitation database files that a real
 * engine refuses: on docker hosts the database folders start empty (attachments and
 * hfs files stay).
 */
export function emptyDatabaseFolders(confRoot: string): void {
    for (const [folder, uid] of [
        [`${confRoot}/core/mongodb/data`, MONGODB_UID],
        [`${confRoot}/core/influxdb/data`, 0],
    ] as const) {
        fs.rmSync(folder, { recursive: true, force: true });
        ownedFolder(folder, uid);
    }
}
