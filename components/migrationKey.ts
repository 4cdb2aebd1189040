import * as pulumi from "@pulumi/pulumi";
import { folderPath, keyFileName, Machine } from "../config";
import { KeyPurpose, PeerAccess, peerAccess } from "../machinery/folderSync";
import { declareStep, Transport } from "../machinery/remoteStep";
import { render } from "../machinery/templates";

export interface MigrationKeyArgs {
    /** Keeps the private halves and runs rsync. */
    holder: Machine;
    /** Accepts them, each for read-only rsync of one data folder (rrsync -ro). */
    granter: Machine;
    dataFolders: string[];
    purpose: KeyPurpose;
    transport: Transport;
}

/**
 * "Create an SSH key pair ... copy the private one to dest and add the public one in
 * authorized_keys on source", narrowed: one key per data folder, generated on the holder,
 * accepted by the granter only for `rrsync -ro <folder>`. Undo removes both halves.
 */
export class MigrationKey extends pulumi.ComponentResource {
    public readonly access: PeerAccess;
    public readonly publicKeys: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: MigrationKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pryv:migration:MigrationKey", name, {}, opts);
        const { holder, granter, dataFolders, purpose, transport } = args;
        const { migrationId } = transport;
        const marker = `pryv-migration:${migrationId}:${purpose}`;
        this.access = peerAccess(granter, purpose, migrationId);
        const { keyFolderName, hostKeyAlias } = this.access;

        const keyPair = declareStep(
            `${name}-keypair`,
            {
                machine: holder,
                create: render("migration-keypair-create.sh", {
                    keyFolderName,
                    marker,
                    knownHostsLine: render("known-hosts", { alias: hostKeyAlias, hostKey: granter.hostKey }).trimEnd(),
                    keys: dataFolders.map((folder) => ({ file: keyFileName(folder) })),
                }),
                delete: render("migration-keypair-delete.sh", { keyFolderName }),
            },
            transport,
            { parent: this },
        );
        this.publicKeys = keyPair.stdout.apply(parsePublicKeys);

        const grantScript = (lines: string[]): string => render("migration-grant.sh", { marker, lines });
        declareStep(
            `${name}-grant`,
            {
                machine: granter,
                create: this.publicKeys.apply((keys) =>
                    grantScript(
                        dataFolders.map((folder) =>
                            render("authorized-key", { folder: folderPath(granter.confRoot, folder), publicKey: keys[keyFileName(folder)], marker }).trimEnd(),
                        ),
                    ),
                ),
                delete: grantScript([]),
            },
            transport,
            { parent: this, dependsOn: [keyPair.resource] },
        );
        this.registerOutputs({ publicKeys: this.publicKeys });
    }
}

/** The keypair step prints `<key file> <type> <base64>` per folder. */
export function parsePublicKeys(stdout: string): Record<string, string> {
    const keys: Record<string, string> = {};
    for (const line of stdout.split("\n").filter((text) => text.trim() !== "")) {
        const match = /^(\S+) (ssh-ed25519 [A-Za-z0-9+/]+=*)$/.exec(line.trim());
        if (match === null) throw new Error(`unexpected line from the key generation step: ${JSON.stringify(line)}`);
        keys[match[1]] = match[2];
    }
    return keys;
}
