// The test hosts themselves: before the migration program is tested against them,
// they have to behave like the machines they stand for.
import { strict as assert } from "assert";
import * as fs from "fs";
import { dnsQuery, httpsRequest, isDatabaseRunning, lastRegisterDnsStart, registerDnsJsonPath, treeManifest, websocketUpgrade } from "../../testbed/checks";
import { HostName, registerDnsJson, REGISTER_STATIC_IPS, sshArgs, startTestHosts, TestHost, TestHosts } from "../../testbed";
import { run, RunResult, sleep } from "../../testbed/shell";

const ALL: HostName[] = ["source", "dest", "reg-master", "reg-slave"];

describe("test hosts", function () {
    this.timeout(300000);
    let th: TestHosts;
    let source: TestHost;
    let dest: TestHost;
    let coreHost: string;

    const ssh = (host: TestHost, command: string): Promise<RunResult> => run("ssh", [...sshArgs(th, host), command]);
    const databaseLog = (host: TestHost): string => {
        const file = `${host.dir}/database-standin.log`;
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    };

    before(async () => {
        const t0 = Date.now();
        th = await startTestHosts({ hosts: ALL, sampleSizeMiB: 8 });
        console.log(`      started in ${Date.now() - t0} ms`);
        source = th.hosts.source;
        dest = th.hosts.dest;
        coreHost = `${th.subdomain}.${th.domain}`;
    });

    after(async function () {
        const runDir = th?.runDir;
        try {
            // The run folder goes with stop(): show its logs first when something failed.
            const failed = this.test?.parent?.tests.some((t) => t.state === "failed");
            if (failed && th) {
                const logs = await run("bash", [
                    "-c",
                    `tail -n 20 ${th.runDir}/*/sshd.log ${th.runDir}/*/logs/*.log ` +
                        `${th.runDir}/*/var/pryv/core/nginx/log/error.log ${th.runDir}/*/database-standin.log ` +
                        `${th.runDir}/*/dns-standin.log`,
                ]);
                console.log(logs.stdout);
            }
        } finally {
            const t0 = Date.now();
            await th?.stop();
            console.log(`      stopped in ${Date.now() - t0} ms`);
        }
        const namespaces = (await run("ip", ["netns", "list"])).stdout;
        assert.ok(!namespaces.includes("pryvmig-"), `namespaces left: ${namespaces}`);
        const links = (await run("ip", ["-o", "link", "show"])).stdout;
        assert.ok(!links.includes("pryvmig-"), "links left");
        if (runDir) {
            const leftovers = (await run("pgrep", ["-af", runDir])).stdout.trim();
            assert.equal(leftovers, "", "processes of the run left (sshd, nginx, stand-ins)");
            assert.ok(!fs.existsSync(runDir), "run folder left");
        }
    });

    it("lets the operator in over ssh with pinned host keys, and counts the commands", async () => {
        for (const name of ALL) {
            const host = th.hosts[name];
            assert.equal(host.commandCount(), 0);
            const r = await ssh(host, 'echo "$HOME"; id -u');
            assert.equal(r.code, 0, `${name}: ${r.stderr}`);
            assert.equal(r.stdout, `${host.dir}/home/root\n0\n`);
            assert.equal(host.commandCount(), 1);
            assert.deepEqual(host.commands(), ['echo "$HOME"; id -u']);
            const exec = await host.exec("true");
            assert.equal(exec.code, 0);
            assert.equal(host.commandCount(), 1, "exec() does not go through sshd");
        }
        // A key that is not the pinned one is refused: no trust on first use.
        const other = await run("ssh", [
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-i",
            th.operatorKeyPath,
            `root@${source.ip}`,
            "true",
        ]);
        assert.notEqual(other.code, 0);
        const multiLine = await ssh(dest, "echo one\necho two");
        assert.equal(multiLine.stdout, "one\ntwo\n");
        assert.equal(dest.commands()[1], "echo one\necho two");
    });

    it("serves https://co1.DOMAIN through nginx on source and on dest", async () => {
        for (const host of [source, dest]) {
            const r = await httpsRequest("root", host.ip, coreHost, "/reg/service/info");
            assert.equal(r.status, 200, r.error);
            assert.equal(r.headers["x-pryv-fixture-machine"], host.name);
            const body = JSON.parse(r.body) as { machine: string; service: string; host: string; path: string };
            assert.deepEqual([body.machine, body.service, body.host, body.path], [host.name, "core", coreHost, "/reg/service/info"]);
        }
        const preview = await httpsRequest("root", source.ip, coreHost, "/previews/events/x/y");
        assert.equal((JSON.parse(preview.body) as { service: string }).service, "preview");
        const series = await httpsRequest("root", source.ip, coreHost, "/events/abc/series");
        assert.equal((JSON.parse(series.body) as { service: string }).service, "hfs");
        const audit = await httpsRequest("root", source.ip, coreHost, "/audit/logs");
        assert.equal((JSON.parse(audit.body) as { service: string }).service, "audit");
        // Hosts reach each other: dest asks source's nginx.
        const across = await httpsRequest(dest, source.ip, coreHost, "/reg/service/info");
        assert.equal(across.headers["x-pryv-fixture-machine"], "source", across.error);
    });

    it("upgrades a websocket through nginx to the stand-in", async () => {
        const r = await websocketUpgrade(source.ip, coreHost, "/socket.io/?EIO=3&transport=websocket");
        assert.equal(r.statusLine, "HTTP/1.1 101 Switching Protocols");
        assert.equal(r.bodyLine, "fixture-websocket source");
    });

    it("stores a write in the user data folder", async () => {
        const r = await httpsRequest("root", source.ip, coreHost, "/testuser05/events", "POST", '{"type":"note/txt","content":"hi"}');
        assert.equal(r.status, 201, r.error);
        const file = `${source.confRoot}/core/core/data/testuser05/fixture-writes.jsonl`;
        assert.equal(fs.readFileSync(file, "utf8"), '{"type":"note/txt","content":"hi"}\n');
        assert.equal(fs.statSync(file).uid, 9999);
    });

    it("has a database stand-in that notices files written underneath it", async () => {
        const data = `${source.confRoot}/core/mongodb/data`;
        assert.ok(await isDatabaseRunning(source));
        assert.ok(await isDatabaseRunning(dest));
        assert.match(fs.readFileSync(`${data}/mongod.lock`, "utf8"), /^\d+\n$/);
        await sleep(1200);
        assert.ok(!databaseLog(source).includes("external-write"), databaseLog(source));
        const r = await source.exec(`cp ${data}/_mdb_catalog.wt ${data}/sizeStorer.wt`);
        assert.equal(r.code, 0, r.stderr);
        await sleep(700);
        assert.match(databaseLog(source), /^external-write sizeStorer\.wt$/m);
        assert.ok(!databaseLog(dest).includes("external-write"), databaseLog(dest));
    });

    it("has accounts that make owner mapping by name visible", async () => {
        assert.equal((await dest.exec("getent passwd 9999")).code, 2);
        assert.match((await dest.exec("getent passwd mongodb")).stdout, /^mongodb:x:1999:/);
        assert.match((await source.exec("getent passwd 9999")).stdout, /^pryv:x:9999:/);
        assert.match((await source.exec("getent passwd mongodb")).stdout, /^mongodb:x:999:/);
        assert.match((await source.exec("getent hosts core")).stdout, /^127\.0\.0\.2\s+core/);
    });

    it("holds sample data on source, owned by the container uids, and none on dest", async () => {
        const core = await treeManifest(source, `${source.confRoot}/core/core/data`);
        const files = core.split("\n").filter((l) => l.split("\t")[1] === "f");
        assert.ok(files.length > 300, `${files.length} files`);
        assert.ok(files.every((l) => l.split("\t").slice(2, 4).join(":") === "9999:9999"));
        assert.match(core, /\tl\t9999\t9999\t0777\t\d+\t-> /);
        assert.match(core, /\tlink=/);
        assert.match(core, /\tsparse$/m);
        const mongo = await treeManifest(source, `${source.confRoot}/core/mongodb/data`);
        assert.match(mongo, /^collection-0-\S+\tf\t999\t999\t/m);
        const destCore = await treeManifest(dest, `${dest.confRoot}/core/core/data`);
        assert.equal(destCore.trim().split("\n").length, 1, destCore);
        assert.ok(destCore.startsWith(".\td\t9999\t9999\t"));
        assert.ok(fs.existsSync(`${th.hosts["reg-master"].confRoot}/reg-master/dns`));
    });

    it("compares trees byte for byte: a faithful copy matches, a dereferencing one does not", async () => {
        const from = `${source.confRoot}/core/core/data`;
        const good = `${dest.dir}/copy-good`;
        const bad = `${dest.dir}/copy-bad`;
        assert.equal((await dest.exec(`cp -a ${from} ${good} && cp -rL --preserve=all ${from} ${bad}`)).code, 0);
        const original = await treeManifest(source, from);
        assert.equal(await treeManifest(dest, good), original);
        assert.notEqual(await treeManifest(dest, bad), original);
    });

    it("stops everything with stop-containers, and starts nginx alone with run-core reverse_proxy", async () => {
        const data = `${source.confRoot}/core/mongodb/data`;
        const stop = await ssh(source, `${source.confRoot}/stop-containers`);
        assert.equal(stop.code, 0, stop.stderr);
        assert.equal((await httpsRequest("root", source.ip, coreHost, "/reg/service/info")).status, 0);
        assert.ok(!(await isDatabaseRunning(source)));
        assert.ok(!fs.existsSync(`${data}/mongod.lock`));
        assert.match(databaseLog(source), /^stop /m);
        const proxyOnly = await ssh(source, `${source.confRoot}/run-core reverse_proxy`);
        assert.equal(proxyOnly.code, 0, proxyOnly.stderr);
        assert.equal((await httpsRequest("root", source.ip, coreHost, "/reg/service/info")).status, 502);
        assert.ok(!(await isDatabaseRunning(source)));
        for (let i = 0; i < 2; i++) {
            // run-core is idempotent
            const all = await ssh(source, `${source.confRoot}/run-core`);
            assert.equal(all.code, 0, all.stderr);
        }
        assert.equal((await httpsRequest("root", source.ip, coreHost, "/reg/service/info")).status, 200);
        assert.ok(await isDatabaseRunning(source));
    });

    describe("registers", () => {
        let registers: TestHost[];
        let coreName: string;
        const dnsPid = (host: TestHost): string => {
            const file = `${host.dir}/run/dns.pid`;
            return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
        };

        before(() => {
            registers = [th.hosts["reg-master"], th.hosts["reg-slave"]];
            coreName = `${th.subdomain}.${th.domain}`;
        });

        it("start with the dns.json of a 2019 register, pointing the core at source", () => {
            const expected = registerDnsJson({ domain: th.domain, subdomain: th.subdomain, coreIp: source.ip });
            for (const reg of registers) {
                assert.equal(registerDnsJsonPath(reg), `${reg.confRoot}/${reg.name}/dns/dns.json`);
                const text = fs.readFileSync(registerDnsJsonPath(reg), "utf8");
                assert.equal(text, expected);
                const config = JSON.parse(text) as Record<string, unknown> & { dns: Record<string, unknown> };
                assert.deepEqual(Object.keys(config), ["serial", "dns", "http", "service", "server", "auth", "net", "redis"]);
                assert.equal(config.dns.port, 53);
                assert.deepEqual(config.dns.staticDataInDomain, {
                    sw: { ip: REGISTER_STATIC_IPS.sw },
                    reg: { ip: th.hosts["reg-master"].ip },
                    mail: { ip: REGISTER_STATIC_IPS.mail },
                    dns1: { ip: th.hosts["reg-master"].ip },
                    dns2: { ip: th.hosts["reg-slave"].ip },
                    [th.subdomain]: { ip: source.ip },
                    "_acme-challenge": { description: "fixture-acme-token" },
                });
                assert.equal(lastRegisterDnsStart(reg)?.[th.subdomain], source.ip);
            }
        });

        it("answer A queries over UDP from dns.json, case-insensitively, NXDOMAIN for unknown names", async () => {
            for (const reg of registers) {
                assert.deepEqual(await dnsQuery(reg.ip, coreName), [source.ip], reg.name);
                assert.deepEqual(await dnsQuery(reg.ip, coreName.toUpperCase()), [source.ip], reg.name);
                assert.deepEqual(await dnsQuery(reg.ip, `sw.${th.domain}`), [REGISTER_STATIC_IPS.sw], reg.name);
                assert.deepEqual(await dnsQuery(reg.ip, `dns2.${th.domain}`), [th.hosts["reg-slave"].ip], reg.name);
                assert.deepEqual(await dnsQuery(reg.ip, th.domain), [REGISTER_STATIC_IPS.domainA], reg.name);
                assert.deepEqual(await dnsQuery(reg.ip, `no-such-core.${th.domain}`), [], reg.name);
                assert.deepEqual(await dnsQuery(reg.ip, "example.com"), [], reg.name);
            }
            // Inside the machine it answers on loopback too, as a container published on 53 does.
            const reg = registers[0];
            const local = await reg.exec(
                `${process.execPath} -e "const r = new (require('dns').promises.Resolver)(); ` +
                    `r.setServers(['127.0.0.1']); r.resolve4('${coreName}').then((a) => console.log(a.join(',')))"`,
            );
            assert.equal(local.stdout, `${source.ip}\n`, local.stderr);
        });

        it("read dns.json only at start: an edit shows after stop-containers and run-reg-master", async () => {
            const [master, slave] = registers;
            const file = registerDnsJsonPath(master);
            const before = fs.readFileSync(file, "utf8");
            const entry = `"${th.subdomain}": { "ip": "${source.ip}" }`;
            assert.ok(before.includes(entry));
            fs.writeFileSync(file, before.replace(entry, `"${th.subdomain}": { "ip": "${dest.ip}" }`));
            assert.deepEqual(await dnsQuery(master.ip, coreName), [source.ip], "answers what it loaded, not the file");

            const pidBefore = dnsPid(master);
            const stop = await ssh(master, `${master.confRoot}/stop-containers`);
            assert.equal(stop.code, 0, stop.stderr);
            assert.equal(stop.stdout, "dns\n");
            assert.equal(dnsPid(master), "");
            await assert.rejects(dnsQuery(master.ip, coreName), /ECONNREFUSED|ETIMEOUT/, "the port no longer answers");
            for (let i = 0; i < 2; i++) {
                // run-reg-master is idempotent
                const start = await ssh(master, `${master.confRoot}/run-reg-master`);
                assert.equal(start.code, 0, start.stderr);
            }
            assert.notEqual(dnsPid(master), pidBefore);
            assert.deepEqual(await dnsQuery(master.ip, coreName), [dest.ip]);
            assert.equal(lastRegisterDnsStart(master)?.[th.subdomain], dest.ip);
            assert.deepEqual(await dnsQuery(slave.ip, coreName), [source.ip], "the other register is its own machine");
            assert.deepEqual(master.commands().slice(-3), [
                `${master.confRoot}/stop-containers`,
                `${master.confRoot}/run-reg-master`,
                `${master.confRoot}/run-reg-master`,
            ]);
        });

        it("do not start on a dns.json that is not JSON, like the real server", async () => {
            const slave = registers[1];
            const file = registerDnsJsonPath(slave);
            const good = fs.readFileSync(file, "utf8");
            assert.equal((await ssh(slave, `${slave.confRoot}/stop-containers`)).code, 0);
            fs.writeFileSync(file, good.replace('"dns": {', '"dns": {,'));
            const broken = await ssh(slave, `${slave.confRoot}/run-reg-slave`);
            assert.notEqual(broken.code, 0);
            assert.match(broken.stderr, /run-reg-slave: dns did not start/);
            await assert.rejects(dnsQuery(slave.ip, coreName));
            fs.writeFileSync(file, good);
            assert.equal((await ssh(slave, `${slave.confRoot}/run-reg-slave`)).code, 0);
            assert.deepEqual(await dnsQuery(slave.ip, coreName), [source.ip]);
        });
    });
});
