import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigMap, LocalWorkspace, Stack, UpResult } from "@pulumi/pulumi/automation";
import { CoreMigration } from "../../components/coreMigration";
import { MigrationOutputs } from "../../components/migrationOutputs";
import { Phase } from "../../config";
import { projectName, readMigrationConfig } from "../../components/stackConfig";
import { startTestHosts, TestHosts, TestHostsOptions } from "..";
import { realStackConfig } from "./realStackConfig";

/** The program the engine runs: the same as index.ts, inline so no language host is needed. */
const program = async (): Promise<MigrationOutputs> => new CoreMigration("pryv", await readMigrationConfig()).outputs;

/** The config a stack of the test hosts starts from, before a test's own keys. */
export type HostsConfig = (hosts: TestHosts) => Record<string, unknown>;

/** The stack's config at `phase`: the base's keys, then the test's, and the operator key as a secret. */
export function migrationConfig(hosts: TestHosts, phase: Phase, extra: Record<string, unknown> = {}, base: HostsConfig = realStackConfig): ConfigMap {
    const values: Record<string, unknown> = { phase, ...base(hosts), ...extra };
    const config: ConfigMap = Object.fromEntries(
        Object.entries(values).map(([key, value]) => [key, { value: typeof value === "string" ? value : JSON.stringify(value) }]),
    );
    config.operatorPrivateKey = { value: hosts.operatorPrivateKey, secret: true };
    return config;
}

export interface MigrationStack {
    stack: Stack;
    /** The file:// backend's folder: the state as the engine stores it. */
    backendFolder: string;
    /** Sets the phase (and any other keys, kept for later calls, as in a stack file) and runs `pulumi up`. */
    up(phase: Phase, extra?: Record<string, unknown>, onOutput?: (text: string) => void): Promise<UpResult>;
    /** Removes the stack's resources (undoing prepare) and its state. */
    destroyAndRemove(): Promise<void>;
}

/**
 * A stack on a temporary file:// backend, removed by destroyAndRemove. `config` gives its
 * base config (realStackConfig, the program's defaults on the docker test hosts, unless set).
 */
export async function openMigrationStack(hosts: TestHosts, stackName = "rehearsal", config: HostsConfig = realStackConfig): Promise<MigrationStack> {
    const backend = fs.mkdtempSync(path.join(os.tmpdir(), "pryvmig-state-"));
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName, projectName, program },
        {
            projectSettings: { name: projectName, runtime: "nodejs", backend: { url: `file://${backend}` } },
            // The dynamic provider's process starts in the workspace's temporary folder and
            // must still find @pulumi/pulumi.
            envVars: {
                PULUMI_CONFIG_PASSPHRASE: "rehearsal",
                PULUMI_BACKEND_URL: `file://${backend}`,
                NODE_PATH: path.resolve(__dirname, "..", "..", "node_modules"),
            },
        },
    );
    let settings: Record<string, unknown> = {};
    return {
        stack,
        backendFolder: backend,
        async up(phase, extra = {}, onOutput) {
            settings = { ...settings, ...extra };
            await stack.setAllConfig(migrationConfig(hosts, phase, settings, config));
            return stack.up({ onOutput, color: "never" });
        },
        async destroyAndRemove() {
            try {
                // A finished migration is protected: its state goes, its machines stay as they are.
                await stack.destroy({ color: "never" }).catch(() => undefined);
                await stack.workspace.removeStack(stackName, { force: true });
            } finally {
                fs.rmSync(backend, { recursive: true, force: true });
            }
        },
    };
}

/** What a test file's hooks give its tests: filled in before the first test runs. */
export interface MigrationSession {
    hosts: TestHosts;
    migration: MigrationStack;
    /** What the engine printed during the current test; shown when it fails. */
    log: string[];
    /** `pulumi up` at `phase` (keys kept for later calls, as in a stack file), which must succeed. */
    up: (phase: Phase, extra?: Record<string, unknown>) => Promise<UpResult>;
}

/**
 * The mocha hooks of a test file that migrates between test hosts, called inside its
 * `describe`: the hosts and a stack before its tests, both removed after them, and the
 * engine's last lines printed when a test fails.
 */
export function migrationOnTestHosts(options: TestHostsOptions, stackName: string, config: HostsConfig = realStackConfig): MigrationSession {
    const log: string[] = [];
    const session = {
        log,
        up: async (phase: Phase, extra: Record<string, unknown> = {}) => {
            const result = await session.migration.up(phase, extra, (text) => log.push(text));
            assert.equal(result.summary.result, "succeeded");
            return result;
        },
    } as MigrationSession;
    before(async () => {
        session.hosts = await startTestHosts(options);
        session.migration = await openMigrationStack(session.hosts, stackName, config);
    });
    after(async () => {
        try {
            if (session.migration !== undefined) await session.migration.destroyAndRemove();
        } finally {
            if (session.hosts !== undefined) await session.hosts.stop();
        }
    });
    afterEach(function () {
        if (this.currentTest?.state === "failed") console.log(log.join("").split("\n").slice(-80).join("\n"));
        log.length = 0;
    });
    return session;
}
