import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UpResult } from "@pulumi/pulumi/automation";
import { containerStates, registerDnsJson, runningServices, TestHost, TestHosts } from "../../testbed";
import { dnsQuery, httpsRequest, registerDnsJsonPath, treeManifest } from "../../testbed/checks";
import { slowLinkInto, unslowLink } from "../../testbed/faults";
import { site443 } from "../../testbed/nginx-conf";
import { MigrationStack, migrationOnTestHosts } from "../../testbed/migration/migrationStack";
import {
    authorizedKeys,
    commandCounts,
    dataFolderOn,
    databaseFilesHold,
    holdsEvent,
    servedBy,
    websocketReaches,
    writeEvent,
} from "../../testbed/migration/observe";
import { realDataFolders, realStackConfig } from "../../testbed/migration/realStackConfig";

/** What an update changed, beyond the program reading its own stack's last outputs. */
const changedResources = (result: UpResult): string[] => Object.keys(result.summary.resourceChanges ?? {}).filter((kind) => kind !== "same" && kind !== "read");

/** Whether a database runs on the host (a running core writes under its files). */
const databaseRuns = async (host: TestHost): Promise<boolean> =>
    (await runningServices(host)).some((service) => service === "mongodb" || service === "influxdb");

/**
 * The program on the real engine (Automation API, openssh executor) against the four
 * docker test hosts (Pryv's 2019 core shape, FerretDB and InfluxDB) with the program's
 * defaults, every check made from outside the program. Each `it` builds on the one
 * before: every phase forward, then back one phase at a time.
 */
describe("migration on the test hosts (real engine)", function () {
    this.timeout(600_000);
    const session = migrationOnTestHosts(
        { hosts: ["source", "dest", "reg-master", "reg-slave"], engine: "docker", sampleSizeMiB: 24 },
        "itest",
        realStackConfig,
    );
    let hosts: TestHosts;
    let migration: MigrationStack;
    let source: TestHost;
    let dest: TestHost;
    let registers: TestHost[];
    /** Every file of the file:// backend, as the engine stores them (the Automation API's exportStack would decrypt secrets). */
    const storedState = (folder = migration.backendFolder): string =>
        fs
            .readdirSync(folder, { withFileTypes: true })
            .map((entry) => (entry.isDirectory() ? storedState(path.join(folder, entry.name)) : fs.readFileSync(path.join(folder, entry.name), "utf8")))
            .join("\n");
    // What the registers' dns.json holds besides the core's IP (testbed/register.ts): never in the state in clear.
    const fixtureSecrets = ["fixture-admin-key", "fixture-redis-password"];
    const up = async (phase: Parameters<MigrationStack["up"]>[0], extra: Record<string, unknown> = {}) => {
        const result = await session.up(phase, extra);
        const state = storedState();
        for (const secret of fixtureSecrets) assert.equal(state.includes(secret), false, `${secret} in the state after ${phase}`);
        return result.outputs;
    };
    const siteFile = () => `${source.confRoot}/core/nginx/conf/site-443.conf`;
    const coreName = () => `${hosts.subdomain}.${hosts.domain}`;
    const answers = () => Promise.all(registers.map((register) => dnsQuery(register.ip, coreName())));
    const sameTree = async (from: TestHost, to: TestHost, folder: string) =>
        assert.equal(await treeManifest(to, dataFolderOn(to, folder)), await treeManifest(from, dataFolderOn(from, folder)), folder);
    /** The folders nothing rewrites once copied: InfluxDB and FerretDB rewrite theirs as soon as they run (realMigration.test.ts tells those changes apart). */
    const quietFolders = () => realDataFolders.filter((folder) => folder !== "core/mongodb/data" && folder !== "core/influxdb/data");
    const keyMarkers = (host: TestHost) =>
        authorizedKeys(host)
            .split("\n")
            .filter((line) => line.includes("pryv-migration:itest:")).length;

    before(() => {
        ({ hosts, migration } = session);
        ({ source, dest } = hosts.hosts);
        registers = [hosts.hosts["reg-master"], hosts.hosts["reg-slave"]];
    });

    it("prepare: checks dest (started, healthy, stopped again) and sets up keys that can only read", async () => {
        const outputs = await up("prepare");
        assert.ok((outputs.destHealthySeconds.value as number) > 0);
        assert.equal(await databaseRuns(dest), false);
        assert.equal(await servedBy(hosts, dest), "nobody");
        assert.ok(
            (await containerStates(dest)).every((line) => line.endsWith(" exited")),
            (await containerStates(dest)).join(", "),
        );
        assert.equal(keyMarkers(source), realDataFolders.length);
        assert.equal(keyMarkers(dest), realDataFolders.length);
        assert.match(String(outputs.proxyFile.value), /upstream websocket_server \{\n {2}server 10\.213\.7\.12:443;\n\}/);
        assert.deepEqual(
            (outputs.dnsChangesPlanned.value as { previousIp: string; newIp: string }[]).map((c) => [c.previousIp, c.newIp]),
            [
                [source.ip, dest.ip],
                [source.ip, dest.ip],
            ],
        );

        const keyFolder = "$HOME/.ssh/pryv-migration-itest-pull";
        const ssh = `ssh -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${keyFolder}/known_hosts -o HostKeyAlias=pryv-migration-source`;
        const withKey = (folder: string, rest: string) =>
            dest.exec(`rsync -e "${ssh} -i ${keyFolder}/${folder.replace(/^\//, "").replace(/\//g, "_")}" ${rest}`);
        for (const folder of realDataFolders) {
            const listing = await withKey(folder, `--list-only root@${source.ip}:./`);
            assert.equal(listing.code, 0, `${folder}: ${listing.stderr}`);
        }
        const shell = await dest.exec(`${ssh} -i ${keyFolder}/core_core_data root@${source.ip} cat /etc/passwd`);
        assert.notEqual(shell.code, 0, "the key ran a command that is not rsync");
        assert.doesNotMatch(shell.stdout, /root:/);
        const outside = await withKey("core/core/data", `--list-only root@${source.ip}:../../nginx/conf/`);
        assert.notEqual(outside.code, 0, `the key listed outside its folder: ${outside.stdout}`);
        assert.doesNotMatch(outside.stdout, /site-443\.conf/);
        await dest.exec("echo intruder > /tmp/pryvmig-intruder.txt");
        const pushed = await withKey("core/core/data", `/tmp/pryvmig-intruder.txt root@${source.ip}:./`);
        assert.notEqual(pushed.code, 0, "the key could write on source");
        assert.equal(fs.existsSync(`${source.confRoot}/core/core/data/pryvmig-intruder.txt`), false);
    });

    it("warm-sync: copies every folder from live source, and again when the round changes", async () => {
        const first = await up("warm-sync", { warmSyncRound: 1 });
        const stats = first.warmSync.value as { folder: string; bytesReceived: number; round: string }[];
        assert.deepEqual(
            stats.map((s) => [s.folder, s.round]),
            realDataFolders.map((folder) => [folder, "warm-1"]),
        );
        assert.ok(stats.find((s) => s.folder === "core/core/data")!.bytesReceived > 1_000_000);
        assert.equal(await servedBy(hosts, source), "source");
        for (const folder of quietFolders()) await sameTree(source, dest, folder);

        await writeEvent(hosts, source, "alice", "warm-write");
        // A large upload since the first round, over a link slow enough that its round lasts
        // long enough to report its progress in the engine's display as it runs.
        const upload = `${source.confRoot}/core/core/data/testuser01/attachments/large-upload`;
        await source.exec(`install -d -o 9999 -g 9999 ${upload} && head -c 40M /dev/urandom > ${upload}/video && chown 9999:9999 ${upload}/video`);
        await slowLinkInto(dest, "40mbit");
        const second = await up("warm-sync", { warmSyncRound: 2 }).finally(() => unslowLink(dest));
        assert.ok((second.warmSync.value as { round: string }[]).every((s) => s.round === "warm-2"));
        assert.ok(await databaseFilesHold(dest, `${dest.confRoot}/core/mongodb/data`, "warm-write"));
        // Shown on the step's line while it runs, as in `creating replacement (6s) [diff: ~create,triggers]; progress: ...`.
        const progress = session.log
            .join("")
            .split("\n")
            .filter((line) => line.includes("progress: warm-2 of core/core/data on dest, "));
        assert.ok(
            progress.some((line) =>
                / (creating|updating)[^(]*\(\d+s\) (\[diff: [^\]]*\]; )?progress: warm-2 of core\/core\/data on dest, 0:00:\d\d in: [\d.]+ (KiB|MiB) copied \(\d+%\), \S+\/s, /.test(
                    line,
                ),
            ),
            `no progress of the round shown while its step ran:\n${progress.join("\n")}`,
        );
    });

    it("cutover: a proxy file nginx -t refuses fails the cutover with nginx's words before source stops: source keeps serving", async () => {
        const certificate = `${source.confRoot}/core/nginx/conf/secret/${hosts.domain}-bundle.crt`;
        fs.renameSync(certificate, `${certificate}.away`);
        try {
            await assert.rejects(
                migration.up("cutover"),
                /the new content was refused, the previous file is back in place:\n[\s\S]*\[emerg\].*cannot load certificate/,
            );
        } finally {
            fs.renameSync(`${certificate}.away`, certificate);
        }
        assert.equal(fs.readFileSync(siteFile(), "utf8"), site443(hosts.domain, source.confRoot));
        assert.deepEqual(
            fs.readdirSync(`${source.confRoot}/core/nginx/conf`).filter((name) => name.includes("pryv-migration")),
            [],
        );
        assert.equal(await servedBy(hosts, source), "source");
        assert.equal(await databaseRuns(source), true);
        assert.equal(await servedBy(hosts, dest), "nobody");
    });

    it("cutover: source stops, dest gets the rest and serves the same bytes, and source's nginx alone proxies every call to it", async () => {
        await writeEvent(hosts, source, "bob", "last-write-before-cutover");
        // Deletions since the last warm round, in a folder whose directory grew large long ago.
        await source.exec(`rm -f ${source.confRoot}/core/core/data/testuser04/attachments/history-of-deletions/attachment-05*`);
        // What users get through source's address while the cutover runs.
        const answers: { status: number; retryAfter?: string }[] = [];
        let cutoverRunning = true;
        const watch = (async () => {
            while (cutoverRunning) {
                const response = await httpsRequest("root", source.ip, coreName(), "/reg/service/info");
                answers.push({ status: response.status, retryAfter: response.headers["retry-after"] });
            }
        })();
        const outputs = await up("cutover").finally(() => (cutoverRunning = false));
        await watch;
        const during = answers.slice(answers.findIndex((answer) => answer.status !== 200));
        assert.ok(
            during.some((answer) => answer.status === 503 && answer.retryAfter === "5"),
            `no 503 with Retry-After while dest was not serving yet: ${JSON.stringify(answers)}`,
        );
        assert.equal(answers.at(-1)?.status, 200);
        assert.deepEqual(await runningServices(source), ["reverse_proxy"]);
        assert.equal(await servedBy(hosts, dest), "dest");
        assert.equal(await servedBy(hosts, source), "dest");
        assert.equal(await servedBy(hosts, source, "carol"), "dest");
        assert.equal(await websocketReaches(hosts, source), "dest");
        for (const folder of quietFolders()) await sameTree(source, dest, folder);
        assert.ok(await holdsEvent(dest, "bob", "last-write-before-cutover"));
        const owners = await dest.exec(`stat -c '%u:%g' ${dest.confRoot}/core/mongodb/data/* ${dest.confRoot}/core/core/data/testuser01 | sort -u`);
        assert.deepEqual(owners.stdout.trim().split("\n").sort(), ["9999:9999", "999:999"]);
        assert.doesNotMatch((await dest.exec("getent passwd 9999 || true")).stdout, /9999/);
        assert.equal(fs.readFileSync(`${siteFile()}.pryv-migration-original`, "utf8"), site443(hosts.domain, source.confRoot));
        assert.equal(fs.readFileSync(siteFile(), "utf8"), outputs.proxyFile.value);
        // The final round copied what source's change journal recorded, not a walk of every file.
        assert.deepEqual(
            (outputs.coldSync.value as { folder: string; walk: boolean }[]).map((round) => [round.folder, round.walk]),
            realDataFolders.map((folder) => [folder, false]),
        );
        assert.deepEqual(outputs.changeJournal.value, { journal: true });
        const outage = outputs.outage.value as { seconds: number; steps: Record<string, number> };
        assert.ok(outage.seconds > 0 && outage.steps.coldSync > 0 && outage.steps.destStart > 0, JSON.stringify(outage));
        assert.deepEqual(
            (outputs.verifiedFolders.value as { folder: string }[]).map((f) => f.folder),
            realDataFolders,
        );
        assert.deepEqual(
            (outputs.contentVerified.value as { folder: string }[]).map((f) => f.folder),
            realDataFolders,
        );
        await writeEvent(hosts, source, "carol", "written-through-the-proxy");
        assert.ok(await holdsEvent(dest, "carol", "written-through-the-proxy"));
    });

    it("a second up on the converged stack changes nothing and runs no command on any host", async () => {
        const before = commandCounts(hosts);
        const result = await migration.up("cutover");
        assert.deepEqual(changedResources(result), []);
        assert.deepEqual(commandCounts(hosts), before);
    });

    it("keeps the operator key out of the stored state in plain text", () => {
        const state = storedState();
        const keyBody = hosts.operatorPrivateKey.split("\n")[1];
        assert.ok(keyBody.length > 20 && state.includes("pryv-pull-key-keypair"));
        assert.equal(state.includes(keyBody), false);
        assert.match(state, /"ciphertext"/);
    });

    it("dns: each register answers the dest IP, its dns.json changed in that one value only", async () => {
        await up("dns");
        assert.deepEqual(await answers(), [[dest.ip], [dest.ip]]);
        for (const register of registers) {
            assert.equal(
                fs.readFileSync(registerDnsJsonPath(register), "utf8"),
                registerDnsJson({ domain: hosts.domain, subdomain: hosts.subdomain, coreIp: dest.ip }),
            );
        }
        const before = commandCounts(hosts);
        const again = await migration.up("dns");
        assert.deepEqual(changedResources(again), []);
        assert.deepEqual(commandCounts(hosts), before);
    });

    it("finalize: checks the registers' answers, then the migration keys leave both machines", async () => {
        const outputs = await up("finalize");
        assert.deepEqual(
            (outputs.dnsAnswers.value as { answer: string }[]).map((a) => a.answer),
            [dest.ip, dest.ip],
        );
        for (const host of [source, dest]) {
            assert.equal(keyMarkers(host), 0, host.name);
            assert.deepEqual(
                fs.readdirSync(`${host.dir}/home/root/.ssh`).filter((name) => name.startsWith("pryv-migration-itest")),
                [],
                host.name,
            );
        }
        assert.equal(await servedBy(hosts, source), "dest");
    });

    it("finalize: pulumi destroy of the finished migration is refused and touches no machine", async () => {
        const before = commandCounts(hosts);
        await assert.rejects(migration.stack.destroy({ color: "never" }), /protected/);
        assert.deepEqual(commandCounts(hosts), before);
        assert.deepEqual(await answers(), [[dest.ip], [dest.ip]]);
        assert.equal(await servedBy(hosts, source), "dest");
    });

    it("finalize: a rollback that skips dns is refused before anything runs", async () => {
        const before = commandCounts(hosts);
        await assert.rejects(migration.up("warm-sync"), /phase: expected dns or finalize after a run at finalize/);
        assert.deepEqual(commandCounts(hosts), before);
        assert.deepEqual(await answers(), [[dest.ip], [dest.ip]]);
    });

    it("rollback to dns: the keys come back", async () => {
        await up("dns");
        assert.equal(keyMarkers(source), realDataFolders.length);
        assert.equal(keyMarkers(dest), realDataFolders.length);
        assert.deepEqual(await answers(), [[dest.ip], [dest.ip]]);
    });

    it("rollback to cutover: the registers answer source's IP again, dns.json byte for byte", async () => {
        await up("cutover");
        assert.deepEqual(await answers(), [[source.ip], [source.ip]]);
        for (const register of registers) {
            assert.equal(
                fs.readFileSync(registerDnsJsonPath(register), "utf8"),
                registerDnsJson({ domain: hosts.domain, subdomain: hosts.subdomain, coreIp: source.ip }),
            );
        }
        assert.equal(await servedBy(hosts, source), "dest");
    });

    it("rollback to warm-sync: dest stopped, writes made through the proxy carried back, what they replaced kept aside, source serving again", async () => {
        await writeEvent(hosts, source, "bob", "written-on-dest-before-the-rollback");
        const outputs = await up("warm-sync");
        assert.equal(await servedBy(hosts, dest), "nobody");
        assert.equal(await databaseRuns(dest), false);
        assert.equal(await servedBy(hosts, source), "source");
        assert.equal(fs.readFileSync(siteFile(), "utf8"), site443(hosts.domain, source.confRoot));
        assert.equal(fs.existsSync(`${siteFile()}.pryv-migration-original`), false);
        assert.ok(await holdsEvent(source, "carol", "written-through-the-proxy"));
        for (const folder of quietFolders()) await sameTree(dest, source, folder);
        // The carry-back replaced source's database files: source's own version waits in the kept-aside folder.
        const kept = String(outputs.keptAside.value);
        const keptDatabase = (await source.exec(`find ${kept} -type d -path '*/core/mongodb/data'`)).stdout.trim().split("\n").filter(Boolean);
        assert.equal(keptDatabase.length, 1, `source's replaced database files not kept aside under ${kept}`);
        assert.ok(await databaseFilesHold(source, keptDatabase[0], "last-write-before-cutover"));
        assert.equal(await databaseFilesHold(source, keptDatabase[0], "written-on-dest-before-the-rollback"), false);
        assert.ok(await holdsEvent(source, "bob", "written-on-dest-before-the-rollback"));
    });

    it("rollback to prepare, then destroy: source still serving, the keys gone, every update in the history", async () => {
        await up("prepare");
        assert.equal(await servedBy(hosts, source), "source");
        await migration.stack.destroy({ color: "never" });
        for (const host of [source, dest]) assert.equal(keyMarkers(host), 0, host.name);
        const history = await migration.stack.history(1000);
        // prepare, 2 warm rounds, refused cutover, cutover and its repeat, dns and its repeat, finalize, the refused rollback, 4 rollbacks.
        assert.equal(history.filter((entry) => entry.kind === "update").length, 14, JSON.stringify(history.map((entry) => [entry.kind, entry.result])));
        assert.equal(history[0].kind, "destroy");
        assert.ok(
            history.some((entry) => entry.kind === "update" && entry.result === "failed"),
            "the refused proxy is in the audit trail",
        );
        const sshFolders = fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith("pryvssh-"));
        assert.ok(sshFolders.length > 0);
        assert.deepEqual(
            sshFolders.flatMap((folder) => fs.readdirSync(path.join(os.tmpdir(), folder))).filter((name) => name.startsWith("id-")),
            [],
            "the operator key stays on disk only while a command runs",
        );
    });
});
