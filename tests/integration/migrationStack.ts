import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigMap, LocalWorkspace, OutputMap, Stack, UpResult } from "@pulumi/pulumi/automation";
import { CoreMigration } from "../../components/coreMigration";
import { Phase } from "../../components/config";
import { projectName, readStackConfig } from "../../components/stackConfig";
import { TestHost, TestHosts } from "../hosts";

/** The program the engine runs: the same as index.ts, inline so no language host is needed. */
const program = async (): Promise<OutputMap | Record<string, unknown>> => new CoreMigration("pryv", readStackConfig()).outputs;

function machineConfig(host: TestHost): Record<string, unknown> {
    return { host: host.ip, port: host.sshPort, user: host.user, hostKey: host.hostKey, confRoot: host.confRoot };
}

/** Stack config of a migration between the test hosts, through the openssh executor. */
export function migrationConfig(hosts: TestHosts, phase: Phase, extra: Record<string, unknown> = {}): ConfigMap {
    const values: Record<string, unknown> = {
        phase,
        executor: "openssh",
        source: machineConfig(hosts.hosts.source),
        dest: machineConfig(hosts.hosts.dest),
        domain: hosts.domain,
        coreSubdomain: hosts.subdomain,
        destCoreIp: hosts.hosts.dest.ip,
        healthCheck: { timeoutSeconds: 60 },
        ...extra,
    };
    const config: ConfigMap = Object.fromEntries(
        Object.entries(values).map(([key, value]) => [key, { value: typeof value === "string" ? value : JSON.stringify(value) }]),
    );
    config.operatorPrivateKey = { value: hosts.operatorPrivateKey, secret: true };
    return config;
}

export interface MigrationStack {
    stack: Stack;
    /** Sets the phase (and any other keys) and runs `pulumi up`. */
    up(phase: Phase, extra?: Record<string, unknown>, onOutput?: (text: string) => void): Promise<UpResult>;
    /** Removes the stack's resources (undoing prepare) and its state. */
    destroyAndRemove(): Promise<void>;
}

/** A stack on a temporary file:// backend, removed by destroyAndRemove. */
export async function openMigrationStack(hosts: TestHosts, stackName = "rehearsal"): Promise<MigrationStack> {
    const backend = fs.mkdtempSync(path.join(os.tmpdir(), "pryvmig-state-"));
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName, projectName, program },
        {
            projectSettings: { name: projectName, runtime: "nodejs", backend: { url: `file://${backend}` } },
            // The dynamic provider's process starts in the workspace's temporary folder and
            // must still find @pulumi/pulumi.
            envVars: { PULUMI_CONFIG_PASSPHRASE: "rehearsal", PULUMI_BACKEND_URL: `file://${backend}`, NODE_PATH: path.resolve(__dirname, "..", "..", "node_modules") },
        },
    );
    return {
        stack,
        async up(phase, extra = {}, onOutput) {
            await stack.setAllConfig(migrationConfig(hosts, phase, extra));
            return stack.up({ onOutput, color: "never" });
        },
        async destroyAndRemove() {
            try {
                await stack.destroy({ color: "never" });
                await stack.workspace.removeStack(stackName);
            } finally {
                fs.rmSync(backend, { recursive: true, force: true });
            }
        },
    };
}
