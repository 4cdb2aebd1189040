// The docker test hosts (startTestHosts({ engine: "docker" })): Pryv.io's 2019 core
// shape in real containers, with real databases, checked from outside before the
// migration program is tested against it. What the program will meet there: Pryv's
// scripts reached over ssh drive each host's own engine; compose links start a
// database with nginx unless --no-deps; writes land in FerretDB and InfluxDB, survive
// a restart, pass the databases' own checks once stopped, and an rsync copy of the
// stopped folders serves all of them on another machine.
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { dnsQuery, httpsRequest, lastRegisterDnsStart, registerDnsJsonPath } from "../../testbed/checks";
import {
    containerStates,
    CORE_SERVICES,
    databaseEvents,
    databasePoints,
    influxVerify,
    PryvEvent,
    readEvents,
    readPoints,
    runningServices,
    SeriesPoints,
    sqliteIntegrity,
    sshArgs,
    startTestHosts,
    TestHost,
    TestHosts,
    waitForCore,
    waitForTsmFiles,
    writeEvents,
    writePoints,
} from "../../testbed";
import { run, RunResult } from "../../testbed/shell";
import { servedBy, websocketReaches } from "../../testbed/migration/observe";

const ALL_CORE_SERVICES = [...CORE_SERVICES].sort();
const DATA_FOLDERS = ["core/mongodb/data", "core/influxdb/data", "core/core/data", "core/hfs/data"];
const USERS = ["alice", "bob"];

/**
 * The shape of the cutover's site-443.conf (templates/site-443-proxy.conf.hbs): every
 * call proxied to dest over HTTPS with SNI and the original Host, 503 while dest does
 * not answer; no compose service named, so nginx starts alone.
 */
const proxySite = (destIp: string, domain: string, trusted: string): string => `upstream core_server {
  server ${destIp}:443;
}

server {
  listen 443 ssl;
  server_name *.${domain};
  proxy_http_version 1.1;
  proxy_set_header Upgrade $http_upgrade;
  proxy_set_header Connection "upgrade";
  proxy_set_header Host $host;
  proxy_ssl_server_name on;
  proxy_ssl_name $host;
  proxy_ssl_verify on;
  proxy_ssl_trusted_certificate ${trusted};
  error_page 502 504 = @dest_not_serving_yet;
  location @dest_not_serving_yet {
    add_header Retry-After 5 always;
    return 503;
  }
  location / {
    proxy_pass https://core_server;
  }
}
`;

describe("docker test hosts: the real 2019 core shape", function () {
    this.timeout(300000);
    let th: TestHosts;
    let source: TestHost;
    let dest: TestHost;
    const written = new Map<string, PryvEvent[]>();
    const series = new Map<string, SeriesPoints>();

    const ssh = async (host: TestHost, command: string): Promise<RunResult> => {
        const r = await run("ssh", [...sshArgs(th, host), command], { timeoutMs: 120000 });
        assert.equal(r.code, 0, `${host.name}: ${command}: ${r.stderr}${r.stdout}`);
        return r;
    };

    before(async function () {
        this.timeout(900000); // a fresh machine builds the image first (minutes, then cached)
        const t0 = Date.now();
        th = await startTestHosts({ hosts: ["source", "dest", "reg-master"], engine: "docker", sampleData: false });
        console.log(`      started in ${Date.now() - t0} ms`);
        source = th.hosts.source;
        dest = th.hosts.dest;
    });

    after(async function () {
        const failed = this.test?.parent?.tests.some((t) => t.state === "failed");
        if (failed && th) {
            for (const host of Object.values(th.hosts)) {
                const logs = await host.exec(`cd ${host.confRoot} && docker ps -a; for c in $(docker ps -a -q); do docker logs --tail 15 $c 2>&1; done`);
                console.log(`--- ${host.name}\n${logs.stdout}${logs.stderr}`);
            }
        }
        const runDir = th?.runDir;
        const t0 = Date.now();
        await th?.stop();
        console.log(`      stopped in ${Date.now() - t0} ms`);
        const daemons = (await run("pgrep", ["-af", "dockerd|containerd"])).stdout;
        assert.ok(!daemons.includes("/run/pryvmig-d-"), `engines left: ${daemons}`);
        const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8");
        assert.ok(!runDir || !mounts.includes(runDir), "mounts of the run left");
        assert.ok(!runDir || !fs.existsSync(runDir), "run folder left");
    });

    it("run-core starts every service; the core answers with meta.apiVersion through nginx, from each machine's own engine", async () => {
        assert.deepEqual(await runningServices(source), ALL_CORE_SERVICES);
        assert.deepEqual(await runningServices(dest), ALL_CORE_SERVICES);
        // The program's commands come over ssh: their docker is the host's own engine.
        const ps = await ssh(source, "docker ps --format '{{.Names}}' | sort");
        assert.deepEqual(ps.stdout.trim().split("\n"), ALL_CORE_SERVICES.map((s) => `pryv_${s}_1`).sort());
        await waitForCore(th, source);
        await waitForCore(th, dest);
        const status = await httpsRequest("root", source.ip, `${th.subdomain}.${th.domain}`, "/status");
        assert.equal(status.status, 200, status.error ?? status.body);
        const body = JSON.parse(status.body) as { meta: { apiVersion: string; serverTime: number }; machine: string };
        assert.match(body.meta.apiVersion, /^1\.4\./);
        assert.ok(Math.abs(body.meta.serverTime - Date.now() / 1000) < 60, `serverTime ${body.meta.serverTime}`);
        // The observers of the migration tests tell the machines apart here too.
        assert.equal(await servedBy(th, source), "source");
        assert.equal(await servedBy(th, dest), "dest");
        assert.equal(await websocketReaches(th, source), "source");
    });

    it("ensure-permissions-core gives core's and hfs's folders to 9999 and MongoDB's to 999, by number", async () => {
        const stray = `${dest.confRoot}/core/core/data/written-by-root`;
        fs.writeFileSync(stray, "");
        fs.writeFileSync(`${dest.confRoot}/core/mongodb/log/written-by-root.log`, "");
        await ssh(dest, `${dest.confRoot}/ensure-permissions-core`);
        assert.equal(fs.statSync(stray).uid, 9999);
        assert.equal(fs.statSync(`${dest.confRoot}/core/mongodb/log/written-by-root.log`).uid, 999);
        fs.rmSync(stray);
    });

    it("the register's DNS container answers the core's name from dns.json on 53/udp of its address, read at its start", async () => {
        const register = th.hosts["reg-master"];
        assert.deepEqual(await runningServices(register), ["dns"]);
        assert.deepEqual(await dnsQuery(register.ip, `${th.subdomain}.${th.domain}`, 2000), [source.ip]);
        // Read at start only, as Pryv's: the dns phase's edit shows after a restart of the container.
        const file = registerDnsJsonPath(register);
        const original = fs.readFileSync(file, "utf8");
        fs.writeFileSync(file, original.replace(`"${th.subdomain}": { "ip": "${source.ip}" }`, `"${th.subdomain}": { "ip": "${dest.ip}" }`));
        try {
            assert.deepEqual(await dnsQuery(register.ip, `${th.subdomain}.${th.domain}`, 2000), [source.ip]);
            await ssh(register, `${register.confRoot}/stop-containers && ${register.confRoot}/run-reg-master`);
            let answer: string[] = [];
            for (let i = 0; i < 50 && answer[0] !== dest.ip; i++) answer = await dnsQuery(register.ip, `${th.subdomain}.${th.domain}`, 500).catch(() => []);
            assert.deepEqual(answer, [dest.ip]);
            assert.equal(lastRegisterDnsStart(register)?.[th.subdomain], dest.ip);
        } finally {
            fs.writeFileSync(file, original);
        }
    });

    it("events land in FerretDB, series points in InfluxDB, attachments in core's data folder", async () => {
        for (const user of USERS) {
            const events = Array.from({ length: 40 }, (_, i) => ({ id: `${user}-e${i}`, streamId: "diary", type: "note/txt", content: `${user} note ${i}` }));
            await writeEvents(th, source, user, events);
            written.set(user, events);
            const points: SeriesPoints = { fields: ["timestamp", "value"], points: Array.from({ length: 300 }, (_, i) => [1560000000 + i, i * 0.5]) };
            await writePoints(th, source, user, `${user}-e0`, points);
            series.set(user, points);
        }
        const attachment = await httpsRequest(
            "root",
            source.ip,
            `alice.${th.domain}`,
            "/events/alice-e1/attachments?name=photo.jpg",
            "POST",
            "not really a photo",
        );
        assert.equal(attachment.status, 201, attachment.body);
        for (const user of USERS) {
            assert.deepEqual(
                (await readEvents(th, source, user)).map((e) => e.id),
                written.get(user)?.map((e) => e.id),
            );
            assert.deepEqual(await readPoints(th, source, user, `${user}-e0`), series.get(user));
        }
        // What the databases hold, read on the compose network past nginx and the core.
        assert.deepEqual(
            (await databaseEvents(source, "bob")).map((e) => [e.id, e.content]),
            written.get("bob")?.map((e) => [e.id, e.content]),
        );
        assert.deepEqual(await databasePoints(source, "bob", "bob-e0"), series.get("bob"));
        const mongo = fs.readdirSync(`${source.confRoot}/core/mongodb/data`);
        assert.ok(mongo.includes("pryv-node.sqlite"), `FerretDB's files: ${mongo.join(" ")}`);
        const influx = fs.readdirSync(`${source.confRoot}/core/influxdb/data/data`);
        assert.deepEqual(influx.filter((d) => d.startsWith("user.")).sort(), ["user.alice", "user.bob"]);
        const file = `${source.confRoot}/core/core/data/alice/attachments/alice-e1/photo.jpg`;
        assert.equal(fs.readFileSync(file, "utf8"), "not really a photo");
        assert.equal(fs.statSync(file).uid, 9999);
    });

    it("after stop-containers, up -d reverse_proxy starts the databases again (links); --no-deps starts nginx alone, proxying to dest", async () => {
        // InfluxDB's cache in TSM files, so that influx_inspect verify has every point to check later.
        await waitForTsmFiles(
            source,
            USERS.map((u) => `user.${u}`),
        );
        await ssh(source, `${source.confRoot}/stop-containers`);
        assert.deepEqual(await runningServices(source), []);
        await ssh(source, `cd ${source.confRoot} && docker-compose -f core.yml up -d reverse_proxy`);
        assert.deepEqual(await runningServices(source), ALL_CORE_SERVICES);
        await waitForCore(th, source);

        await ssh(source, `${source.confRoot}/stop-containers`);
        const site = `${source.confRoot}/core/nginx/conf/site-443.conf`;
        const original = fs.readFileSync(site);
        // The run's certificate, under the conf folder that reverse_proxy mounts at its own path.
        const trusted = `${source.confRoot}/core/nginx/conf/secret/${th.domain}-bundle.crt`;
        fs.writeFileSync(site, proxySite(dest.ip, th.domain, trusted));
        try {
            // The program's default proxy.testCommand, in a one-off container of the image.
            const test = await ssh(source, `docker-compose -f ${source.confRoot}/core.yml run --rm --no-deps reverse_proxy nginx -t 2>&1`);
            assert.match(test.stdout, /test is successful/);
            await ssh(source, `cd ${source.confRoot} && docker-compose -f core.yml up -d --no-deps reverse_proxy`);
            assert.deepEqual(await runningServices(source), ["reverse_proxy"]);
            const states = await containerStates(source);
            assert.ok(states.includes("mongodb exited"), `containers: ${states.join(", ")}`);
            // nginx alone on source serves users from dest, as during the cutover.
            let via = await servedBy(th, source);
            for (let i = 0; i < 40 && via !== "dest"; i++) via = await servedBy(th, source);
            assert.equal(via, "dest");
        } finally {
            fs.writeFileSync(site, original);
        }
        await ssh(source, `${source.confRoot}/stop-containers`);
    });

    it("writes survive a stop and a start", async () => {
        await ssh(source, `${source.confRoot}/run-core`);
        await waitForCore(th, source);
        for (const user of USERS) {
            assert.deepEqual(
                (await readEvents(th, source, user)).map((e) => [e.id, e.content]),
                written.get(user)?.map((e) => [e.id, e.content]),
            );
            assert.deepEqual(await readPoints(th, source, user, `${user}-e0`), series.get(user));
        }
        await ssh(source, `${source.confRoot}/stop-containers`);
    });

    it("stopped, the databases pass their own checks (influx_inspect verify, PRAGMA integrity_check)", async () => {
        assert.deepEqual(await runningServices(source), []);
        const influx = await influxVerify(source);
        assert.ok(influx.ok, influx.output);
        const sqlite = await sqliteIntegrity(source);
        assert.ok(sqlite.ok, sqlite.output);
        console.log(`      influx_inspect verify: ${influx.output.split("\n").at(-1)}; integrity_check: ${sqlite.output.replace(/\n/g, ", ")}`);
        assert.ok(sqlite.files.includes("mongodb/data/pryv-node.sqlite"), sqlite.output);
    });

    it("an rsync copy of the stopped data folders serves every event and point on dest", async () => {
        await ssh(dest, `${dest.confRoot}/stop-containers`);
        for (const folder of DATA_FOLDERS) {
            const r = await run("rsync", ["-aHS", "--numeric-ids", "--delete", `${source.confRoot}/${folder}/`, `${dest.confRoot}/${folder}/`]);
            assert.equal(r.code, 0, r.stderr);
        }
        await ssh(dest, `${dest.confRoot}/run-core`);
        await waitForCore(th, dest);
        assert.equal(await servedBy(th, dest), "dest");
        for (const user of USERS) {
            assert.deepEqual(
                (await readEvents(th, dest, user)).map((e) => [e.id, e.content]),
                written.get(user)?.map((e) => [e.id, e.content]),
            );
            assert.deepEqual(await readPoints(th, dest, user, `${user}-e0`), series.get(user));
        }
        const attachment = await httpsRequest("root", dest.ip, `alice.${th.domain}`, "/events/alice-e1/attachments/photo.jpg");
        assert.equal(attachment.status, 200, attachment.body);
        const content = (JSON.parse(attachment.body) as { attachment: { content: string } }).attachment.content;
        assert.equal(Buffer.from(content, "base64").toString("utf8"), "not really a photo");
        await ssh(dest, `${dest.confRoot}/stop-containers`);
        const sqlite = await sqliteIntegrity(dest);
        assert.ok(sqlite.ok, sqlite.output);
        const influx = await influxVerify(dest);
        assert.ok(influx.ok, influx.output);
    });
});

describe("docker test hosts: a killed run's engines", function () {
    this.timeout(300000);

    it("are removed by the next run: daemons, containers, mounts, cgroups, run folder", async () => {
        // A run of its own, killed with -9 once its hosts serve: no exit handler runs.
        const hostsModule = path.resolve(__dirname, "../../testbed");
        const code = `require(${JSON.stringify(hostsModule)}).startTestHosts({ hosts: ["source"], engine: "docker", sampleData: false })
            .then((h) => { console.log("ready " + h.runDir); setInterval(() => undefined, 1000); })
            .catch((e) => { console.error(e); process.exit(1); });`;
        const child = spawn(process.execPath, ["-r", "ts-node/register", "-e", code], {
            cwd: path.resolve(__dirname, "../.."),
            stdio: ["ignore", "pipe", "inherit"],
        });
        const killedRunDir = await new Promise<string>((resolve, reject) => {
            let out = "";
            child.stdout.on("data", (b: Buffer) => {
                out += b.toString("utf8");
                const m = out.match(/^ready (\S+)$/m);
                if (m) resolve(m[1]);
            });
            child.on("exit", (c) => reject(new Error(`the run to kill exited ${c} before its hosts were ready`)));
        });
        child.kill("SIGKILL");
        await new Promise((resolve) => child.once("exit", resolve));
        const engines = async (): Promise<string> => (await run("pgrep", ["-af", "/run/pryvmig-d-"])).stdout.trim();
        assert.notEqual(await engines(), "", "the killed run left no engine: nothing to show");
        const pidsCgroups = fs.existsSync("/sys/fs/cgroup/pids") ? "/sys/fs/cgroup/pids" : "/sys/fs/cgroup"; // v1, or v2 unified
        const cgroups = (): string[] => fs.readdirSync(pidsCgroups).filter((n) => n.startsWith("pryvmig-d-"));
        assert.notDeepEqual(cgroups(), [], "the killed run's containers are gone already");

        const next = await startTestHosts({ hosts: ["source"] });
        await next.stop();
        assert.equal(await engines(), "", "engines left");
        assert.deepEqual(cgroups(), [], "container cgroups left");
        assert.ok(!fs.readFileSync("/proc/self/mountinfo", "utf8").includes(killedRunDir), "mounts of the killed run left");
        assert.ok(!fs.existsSync(killedRunDir), "the killed run's folder left");
        assert.deepEqual(
            fs.readdirSync("/run").filter((n) => n.startsWith("pryvmig-d-")),
            [],
            "exec roots left",
        );
    });
});
