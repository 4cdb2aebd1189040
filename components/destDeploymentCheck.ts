import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { Machine } from "../config";
import { declareStep, jsonLines, Transport } from "../machinery/remoteStep";
import { ServiceCheck, startServicesScript } from "../machinery/services";
import { render } from "../machinery/templates";

export interface DestDeploymentCheckArgs {
    dest: Machine;
    /** Where the trial run's own files are marked (never taken for source's copy by a round). */
    dataFolders: string[];
    check: ServiceCheck;
    /** Images that must already be on dest (the deployment pulled them). */
    images: string[];
    /** dest may hold users' writes: a changed image digest must not start and stop it again. */
    frozen: boolean;
    transport: Transport;
}

/**
 * "Deploy and launch services on the destination machine": the images are there, the
 * core comes up and answers; then it is stopped again, so that no database runs while
 * its files are written by the syncs that follow (defect 3 of the written procedure).
 * What it wrote in the data folders is marked as dest's own, so that no round takes a file
 * of it for source's copy (services-start.sh says why).
 */
export class DestDeploymentCheck extends pulumi.ComponentResource {
    public readonly imageIds: pulumi.Output<string[]>;
    public readonly healthySeconds: pulumi.Output<number>;

    constructor(name: string, args: DestDeploymentCheckArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pryv:migration:DestDeploymentCheck", name, {}, opts);
        const { dest, dataFolders, check, images, transport } = args;

        this.imageIds = pulumi.output([] as string[]);
        if (images.length > 0) {
            const provider = new docker.Provider(
                `${name}-docker`,
                { host: `ssh://${dest.user}@${dest.host}:${dest.port}`, sshOpts: dockerSshOptions(dest) },
                { parent: this },
            );
            this.imageIds = pulumi.all(images.map((image) => docker.getRemoteImageOutput({ name: image }, { provider, parent: this }).repoDigest));
        }

        const services = declareStep(
            `${name}-services`,
            {
                machine: dest,
                create: startServicesScript(dest, check, { stopAfterwards: true, ownFiles: { dataFolders, migrationId: transport.migrationId } }),
                triggers: [this.imageIds],
            },
            transport,
            { parent: this, ignoreChanges: args.frozen ? ["triggers"] : [] },
        );
        this.healthySeconds = services.stdout.apply((stdout) => {
            const [times] = jsonLines<{ startedAt: number; healthyAt: number }>(stdout);
            return Math.round((times.healthyAt - times.startedAt) * 10) / 10;
        });
        this.registerOutputs({ imageIds: this.imageIds, healthySeconds: this.healthySeconds });
    }
}

/** The docker provider's ssh transport checks dest's pinned key, like every other connection. */
function dockerSshOptions(dest: Machine): string[] {
    const alias = `pryv-migration-docker-${dest.host}`;
    const knownHosts = path.join(os.tmpdir(), `${alias}.known_hosts`);
    fs.writeFileSync(knownHosts, render("known-hosts", { alias, hostKey: dest.hostKey }), { mode: 0o600 });
    return ["-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${knownHosts}`, "-o", `HostKeyAlias=${alias}`, "-o", "BatchMode=yes"];
}
