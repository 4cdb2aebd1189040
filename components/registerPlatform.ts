import * as pulumi from "@pulumi/pulumi";
import { ConfigLeader, Register } from "../config";
import { addressChangeLine, fileContentScript, restoreScript } from "../machinery/machineFile";
import { captureFile, manageFile } from "../machinery/managedFile";
import { editPlatformYml } from "../machinery/platformYmlEdit";
import { declareStep, StepDefinition, Transport, undoRecord } from "../machinery/remoteStep";
import { render } from "../machinery/templates";
import type { DnsChange } from "./registerDns";

export interface RegisterPlatformArgs {
    /** Every register: each one's config follower writes its dns.json from the leader's platform.yml. */
    registers: Register[];
    leader: ConfigLeader;
    coreSubdomain: string;
    destIp: string;
    /** How long a register's follower may take to write its dns.json once started. */
    timeoutSeconds: number;
    transport: Transport;
    /** Whether the registers point at dest (phase dns and later); before that platform.yml is only read. */
    active: boolean;
    /** What must be done first: the cutover. */
    after: pulumi.Resource[];
}

/**
 * "Update core server on Register" for Pryv v1 (layout pryv-v1): the core's address lives
 * in platform.yml on the register that runs the config leader, from which each
 * register's config follower writes that register's dns.json. The file is a resource
 * from prepare on, whose content is the file as read there; from the dns phase on it is
 * the file with the one value edited (YAML-aware, byte for byte elsewhere), so the preview
 * shows `ip: "<old>" => "<new>"`. Then on every register the follower restarts, and once it
 * has written the register's dns.json, the register's services. Undos first in the
 * state: every register's restart (run last on rollback), then the original file back.
 */
export class RegisterPlatform extends pulumi.ComponentResource {
    public readonly changes: pulumi.Output<DnsChange[]>;

    constructor(name: string, args: RegisterPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pryv:migration:RegisterPlatform", name, {}, opts);
        const { leader: leaderSettings, coreSubdomain, destIp, transport } = args;
        const { migrationId } = transport;
        const leader = args.registers.find((register) => register.role === leaderSettings.register);
        if (leader === undefined) throw new pulumi.ResourceError(`configLeader.register: ${leaderSettings.register} is none of registers`, this, true);
        const stepOn = (register: Register) => (suffix: string, definition: StepDefinition, dependsOn: pulumi.Resource[]) =>
            declareStep(`${name}-${register.role}-${suffix}`, definition, transport, { parent: this, dependsOn });
        const restart = (register: Register, undo: boolean) => {
            if (register.configFollower === undefined) throw new pulumi.ResourceError(`registers: ${register.role} has no config follower`, this, true);
            return render("follower-restart.sh", {
                undo,
                role: register.role,
                migrationId,
                restartMarker: `${register.role}-platform-restarted`,
                // A v1 register's dns.json is one path: the follower's.
                dnsJson: register.dnsJsonCandidates[0],
                followerStopCommand: register.configFollower.stopCommand,
                followerStartCommand: register.configFollower.startCommand,
                stopCommand: register.stopCommand,
                startCommand: register.startCommand,
                timeoutSeconds: args.timeoutSeconds,
            });
        };

        const restartsBack = args.active
            ? args.registers.map(
                  (register) =>
                      stepOn(register)(
                          "restart-back",
                          undoRecord(register, {
                              why: "recorded before platform.yml changes, so that its undo runs whatever a crash interrupts.",
                              message: `on rollback, after platform.yml is back: ${register.role}'s config follower and services restarted, if they were`,
                              undo: restart(register, true),
                          }),
                          args.after,
                      ).resource,
              )
            : [];

        const path = leaderSettings.platformYml;
        const what = `${path} on ${leader.role}`;
        const step = stepOn(leader);
        // platform.yml holds the platform's keys: the state keeps it encrypted.
        const original = captureFile(step, { machine: leader, candidates: [path], setting: "configLeader.platformYml", what, secret: true });
        const edit = original.apply((file) => editPlatformYml(file.content, coreSubdomain, destIp, leaderSettings.hosting, what));
        const change = pulumi.unsecret(edit.apply(({ key, previousIp, newIp }) => ({ key, previousIp, newIp })));
        const originalDigest = pulumi.unsecret(original.apply(({ sha256 }) => sha256));
        const { file } = manageFile(step, original, {
            machine: leader,
            secret: true,
            active: args.active,
            names: { undo: "back", file: "platform-yml" },
            undo: {
                why: "recorded before platform.yml changes, so that its undo runs whatever a crash interrupts.",
                message: `on rollback: ${path} back byte for byte (the config leader reads it at every request)`,
                script: restoreScript(path, migrationId),
            },
            content: edit.apply(({ content }) => content),
            script: pulumi.all([originalDigest, change]).apply(([sha256, planned]) =>
                fileContentScript({
                    path,
                    original: { sha256 },
                    changes: [addressChangeLine(planned, { active: args.active, unchanged: "every other byte", holds: "the platform's keys" })],
                }),
            ),
            after: [...args.after, ...restartsBack],
        });
        if (args.active) {
            for (const register of args.registers) {
                stepOn(register)("restart", { machine: register, create: restart(register, false), triggers: [file.stdout] }, [file.resource]);
            }
        }
        this.changes = change.apply(({ key, previousIp, newIp }) => [{ register: leader.role, key, previousIp, newIp }]);
        this.registerOutputs({ changes: this.changes });
    }
}
