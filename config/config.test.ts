import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { defaultDataFolders, parseMigrationConfig, phaseReached, phases } from ".";
import { configRefusal as refusal, destHostKey, rawConfig, registerHostKeys, sourceHostKey } from "../testing";
const withSource = (fields: Record<string, unknown>) => ({ source: { host: "10.0.0.11", hostKey: sourceHostKey, ...fields } });

describe("config", () => {
    it("fills the defaults of the procedure", async () => {
        const config = parseMigrationConfig(rawConfig(), "unit");
        assert.equal(config.executor, "command");
        assert.equal(config.coreSubdomain, "co1");
        assert.equal(config.warmSyncRound, 1);
        assert.deepEqual(config.dataFolders, defaultDataFolders);
        assert.deepEqual(config.healthCheck, { path: "/status", timeoutSeconds: 180 });
        assert.deepEqual(config.source, {
            role: "source",
            host: "10.0.0.11",
            port: 22,
            user: "root",
            hostKey: sourceHostKey,
            confRoot: "/var/pryv",
            addressForPeers: "10.0.0.11",
            startCommand: ["/var/pryv/run-core"],
            stopCommand: ["/var/pryv/stop-containers"],
        });
        assert.equal(config.dest.addressForPeers, "10.0.0.12");
        assert.equal(config.dest.hostKey, destHostKey);
        assert.equal(await pulumi.isSecret(config.operatorPrivateKey!), true);
        assert.deepEqual(config.sync, { compress: "none", maxDeletions: 1000 });
        assert.equal(config.freshDestMaxFiles, 500);
        assert.equal(config.destLost, false);
    });

    it("takes the sync settings, the fresh-dest limit and destLost as given", () => {
        const config = parseMigrationConfig(
            rawConfig({ phase: "warm-sync", sync: { compress: "zstd", maxDeletions: 0 }, freshDestMaxFiles: 0, destLost: true }),
            "unit",
        );
        assert.deepEqual(config.sync, { compress: "zstd", maxDeletions: 0 });
        assert.equal(config.freshDestMaxFiles, 0);
        assert.equal(config.destLost, true);
        assert.deepEqual(parseMigrationConfig(rawConfig({ sync: { compress: "lz4" } }), "unit").sync, { compress: "lz4", maxDeletions: 1000 });
    });

    it("fills the defaults of the proxy and of each register from the 2019 layout", () => {
        const config = parseMigrationConfig(
            rawConfig({ proxy: {}, registers: [{ name: "reg-slave", host: "reg2.example.com", hostKey: registerHostKeys[1] }] }),
            "unit",
        );
        assert.deepEqual(config.proxy, {
            siteFile: "/var/pryv/core/nginx/conf/site-443.conf",
            testCommand: ["docker-compose", "-f", "/var/pryv/core.yml", "run", "--rm", "--no-deps", "reverse_proxy", "nginx", "-t"],
            startCommand: ["docker-compose", "-f", "/var/pryv/core.yml", "up", "-d", "--no-deps", "reverse_proxy"],
            runningCommand: ["docker-compose", "-f", "/var/pryv/core.yml", "ps", "--services", "--filter", "status=running"],
            service: "reverse_proxy",
            verifyDestCertificate: true,
            trustedCertificate: "/etc/ssl/certs/ca-certificates.crt",
        });
        assert.deepEqual(config.registers[0], {
            role: "reg-slave",
            host: "reg2.example.com",
            port: 22,
            user: "root",
            hostKey: registerHostKeys[1],
            confRoot: "/var/pryv",
            addressForPeers: "reg2.example.com",
            startCommand: ["/var/pryv/run-reg-slave"],
            stopCommand: ["/var/pryv/stop-containers"],
            dnsJsonCandidates: ["/var/pryv/reg-slave/dns/conf/dns.json", "/var/pryv/reg-slave/dns/dns.json"],
            dnsJsonSetting: "registers.0.dnsJson",
            dnsServer: "reg2.example.com",
        });
    });

    it("fills the defaults of a Pryv.io v1 core from layout pryv-v1: its scripts, its compose file under pryv/, its config follower", () => {
        const config = parseMigrationConfig(rawConfig({ layout: "pryv-v1", proxy: {}, phase: "cutover", registers: [] }), "unit");
        const compose = ["env", "PRYV_CONF_ROOT=/var/pryv", "docker-compose", "-f", "/var/pryv/pryv/pryv.yml"];
        assert.equal(config.layout, "pryv-v1");
        assert.equal(config.composeFile, "pryv/pryv.yml");
        assert.deepEqual(config.dataFolders, ["pryv/mongodb/data", "pryv/core/data", "pryv/influxdb/data"]);
        assert.deepEqual(config.source.startCommand, ["/var/pryv/run-pryv"]);
        assert.deepEqual(config.source.stopCommand, [...compose, "rm", "--stop", "--force"]);
        // dest's confRoot is its own.
        assert.deepEqual(config.dest.stopCommand, [
            "env",
            "PRYV_CONF_ROOT=/srv/pryv",
            "docker-compose",
            "-f",
            "/srv/pryv/pryv/pryv.yml",
            "rm",
            "--stop",
            "--force",
        ]);
        assert.deepEqual(config.proxy, {
            siteFile: "/var/pryv/pryv/nginx/conf/site-443.conf",
            testCommand: [...compose, "run", "--rm", "--no-deps", "reverse_proxy", "nginx", "-t"],
            startCommand: [...compose, "up", "-d", "--no-deps", "reverse_proxy"],
            runningCommand: [...compose, "ps", "--services", "--filter", "status=running"],
            service: "reverse_proxy",
            configFollower: {
                stopCommand: [
                    "env",
                    "PRYV_CONF_ROOT=/var/pryv",
                    "docker-compose",
                    "-f",
                    "/var/pryv/config-follower/config-follower.yml",
                    "rm",
                    "--stop",
                    "--force",
                ],
                startCommand: ["/var/pryv/run-config-follower"],
            },
            verifyDestCertificate: true,
            trustedCertificate: "/etc/ssl/certs/ca-certificates.crt",
        });
    });

    it("gives pryv-v1's registers their scripts and follower, and the config leader's platform.yml to the dns phase", () => {
        const config = parseMigrationConfig(rawConfig({ layout: "pryv-v1", phase: "dns" }), "unit");
        const compose = ["env", "PRYV_CONF_ROOT=/var/pryv", "docker-compose"];
        assert.deepEqual(config.configLeader, { register: "reg-master", platformYml: "/var/pryv/config-leader/conf/platform.yml" });
        assert.deepEqual(config.registers[1], {
            role: "reg-slave",
            host: "10.0.0.14",
            port: 22,
            user: "root",
            hostKey: registerHostKeys[1],
            confRoot: "/var/pryv",
            addressForPeers: "10.0.0.14",
            startCommand: ["/var/pryv/run-pryv"],
            stopCommand: [...compose, "-f", "/var/pryv/pryv/pryv.yml", "rm", "--stop", "--force"],
            configFollower: {
                stopCommand: [...compose, "-f", "/var/pryv/config-follower/config-follower.yml", "rm", "--stop", "--force"],
                startCommand: ["/var/pryv/run-config-follower"],
            },
            dnsJsonCandidates: ["/var/pryv/pryv/dns/conf/dns.json"],
            dnsJsonSetting: "registers.1.dnsJson",
            dnsServer: "10.0.0.14",
        });
        const named = parseMigrationConfig(
            rawConfig({
                layout: "pryv-v1",
                configLeader: { register: "reg-slave", platformYml: "leader/platform.yml", hosting: "hosting2" },
                registers: [
                    {
                        name: "reg-slave",
                        host: "10.0.0.14",
                        hostKey: registerHostKeys[1],
                        configFollower: { stopCommand: ["/var/pryv/stop-config-follower"], startCommand: ["/var/pryv/run-config-follower"] },
                    },
                ],
            }),
            "unit",
        );
        assert.deepEqual(named.registers[0].configFollower, {
            stopCommand: ["/var/pryv/stop-config-follower"],
            startCommand: ["/var/pryv/run-config-follower"],
        });
        assert.deepEqual(named.configLeader, { register: "reg-slave", platformYml: "/var/pryv/leader/platform.yml", hosting: "hosting2" });
        assert.equal(parseMigrationConfig(rawConfig(), "unit").configLeader, undefined);
    });

    it("lets each setting override what the layout gives", () => {
        const config = parseMigrationConfig(
            rawConfig({
                layout: "pryv-v1",
                registers: [],
                dataFolders: ["pryv/mongodb/data", "pryv/core/data", "pryv/influxdb/data", "pryv/hfs/data"],
                source: { host: "10.0.0.11", hostKey: sourceHostKey, stopCommand: ["/var/pryv/stop-pryv"] },
                proxy: {
                    siteFile: "pryv/nginx/conf/site-4443.conf",
                    service: "nginx",
                    configFollower: { stopCommand: ["/var/pryv/stop-config-follower"], startCommand: ["/var/pryv/run-config-follower"] },
                },
            }),
            "unit",
        );
        assert.deepEqual(config.dataFolders, ["pryv/mongodb/data", "pryv/core/data", "pryv/influxdb/data", "pryv/hfs/data"]);
        assert.deepEqual(config.source.stopCommand, ["/var/pryv/stop-pryv"]);
        assert.deepEqual(config.source.startCommand, ["/var/pryv/run-pryv"]);
        assert.equal(config.proxy.siteFile, "/var/pryv/pryv/nginx/conf/site-4443.conf");
        assert.deepEqual(config.proxy.startCommand, [
            "env",
            "PRYV_CONF_ROOT=/var/pryv",
            "docker-compose",
            "-f",
            "/var/pryv/pryv/pryv.yml",
            "up",
            "-d",
            "--no-deps",
            "nginx",
        ]);
        assert.deepEqual(config.proxy.configFollower, { stopCommand: ["/var/pryv/stop-config-follower"], startCommand: ["/var/pryv/run-config-follower"] });
        // The 2019 layout has no config follower, unless the config names one.
        assert.equal(parseMigrationConfig(rawConfig(), "unit").proxy.configFollower, undefined);
    });

    it("accepts an ssh-agent instead of a private key", () => {
        const config = parseMigrationConfig(rawConfig({ operatorPrivateKey: undefined, useSshAgent: true }), "unit");
        assert.equal(config.operatorPrivateKey, undefined);
    });

    const refusals: [string, Record<string, unknown>, RegExp][] = [
        [
            "a missing host key (no trust on first use)",
            withSource({ hostKey: undefined }),
            /source\.hostKey: required: the machine's SSH host public key.*got nothing/,
        ],
        ["a host key that is not one", withSource({ hostKey: "AAAA; rm -rf /" }), /source\.hostKey: expected an SSH public host key.*got "AAAA; rm -rf \/"/],
        ["a host with shell syntax", withSource({ host: "$(reboot)" }), /source\.host: expected a host name or an IP address.*got "\$\(reboot\)"/],
        ["a host with a newline", withSource({ host: "a\nb" }), /source\.host: expected a host name/],
        ["a user with a quote", withSource({ user: "ro'ot" }), /source\.user: expected a Unix user name; got "ro'ot"/],
        ["a port out of range", withSource({ port: 70000 }), /source\.port: Number must be less than or equal to 65535; got 70000/],
        ["a relative PRYV_CONF_ROOT", withSource({ confRoot: "var/pryv" }), /source\.confRoot: expected an absolute path other than '\/'.*got "var\/pryv"/],
        ["'/' as PRYV_CONF_ROOT", withSource({ confRoot: "/" }), /source\.confRoot: expected an absolute path other than '\/'/],
        ["a PRYV_CONF_ROOT with spaces", withSource({ confRoot: "/var/my pryv" }), /source\.confRoot: expected an absolute path/],
        ["a PRYV_CONF_ROOT with '..'", withSource({ confRoot: "/var/pryv/../etc" }), /source\.confRoot: .*without '\.\.'/],
        [
            "a data folder with '..'",
            { dataFolders: ["core/../../etc"] },
            /dataFolders\.0: expected a folder relative to PRYV_CONF_ROOT.*got "core\/\.\.\/\.\.\/etc"/,
        ],
        ["an absolute data folder", { dataFolders: ["/"] }, /dataFolders\.0: expected a folder relative to PRYV_CONF_ROOT.*got "\/"/],
        ["a data folder with a semicolon", { dataFolders: ["core;rm -rf /"] }, /dataFolders\.0: expected a folder relative/],
        ["nested data folders", { dataFolders: ["core", "core/core/data"] }, /dataFolders: expected distinct folders, none inside another/],
        ["a layout the program does not know", { layout: "pryv-1.9" }, /layout: expected one of pryv-2019, pryv-v1; got "pryv-1\.9"/],
        [
            "a data folder of the layout's holding its nginx file",
            { layout: "pryv-v1", registers: [], dataFolders: ["pryv/nginx"] },
            /dataFolders\.0: .*holds the nginx configuration \(proxy\.siteFile pryv\/nginx\/conf\/site-443\.conf\)/,
        ],
        ["an IP that is not one", { destCoreIp: "10.0.0.300" }, /destCoreIp: expected an IPv4 or IPv6 address; got "10\.0\.0\.300"/],
        [
            "a subdomain with a dot",
            { coreSubdomain: "co1.evil" },
            /coreSubdomain: expected one lower-case DNS label like co1 \(no dots, no spaces\); got "co1\.evil"/,
        ],
        ["a subdomain with a space", { coreSubdomain: "co 1" }, /coreSubdomain: expected one lower-case DNS label/],
        ["a domain with shell syntax", { domain: "pryv.io`id`" }, /domain: expected a lower-case DNS domain/],
        ["an unknown phase", { phase: "done" }, /phase: expected one of prepare, warm-sync, cutover, dns, finalize; got "done"/],
        ["an unknown executor", { executor: "telnet" }, /executor: expected 'command' or 'openssh'; got "telnet"/],
        ["a command that is a string", withSource({ stopCommand: "docker stop $(docker ps -q)" }), /source\.stopCommand: Expected array, received string/],
        ["a command word with a newline", withSource({ startCommand: ["run-core\nreboot"] }), /source\.startCommand\.0: expected no newline or NUL/],
        ["no way to authenticate", { operatorPrivateKey: undefined }, /operatorPrivateKey: set operatorPrivateKey .* or useSshAgent: true/],
        [
            "a private key that is not one",
            { operatorPrivateKey: "hunter2" },
            /operatorPrivateKey: expected a PEM\/OpenSSH private key.*got a value \(secret, not shown\)/,
        ],
        ["a misspelt key", { dataFolder: ["core/core/data"] }, /\(config\): Unrecognized key\(s\) in object: 'dataFolder'/],
        ["a round counter below 1", { warmSyncRound: 0 }, /warmSyncRound: Number must be greater than or equal to 1; got 0/],
        ["an unknown compression", { sync: { compress: "gzip" } }, /sync\.compress: expected one of none, zstd, lz4, zlib; got "gzip"$/],
        ["a negative deletion limit", { sync: { maxDeletions: -1 } }, /sync\.maxDeletions: Number must be greater than or equal to 0; got -1$/],
        ["a deletion limit that is not a whole number", { sync: { maxDeletions: 1.5 } }, /sync\.maxDeletions: Expected integer, received float; got 1\.5$/],
        [
            "a misspelt sync setting",
            { sync: { compression: "zstd" } },
            /sync: Unrecognized key\(s\) in object: 'compression' \(compression\); got \{"compression":"zstd"\}$/,
        ],
        ["a negative fresh-dest limit", { freshDestMaxFiles: -5 }, /freshDestMaxFiles: Number must be greater than or equal to 0; got -5$/],
        ["a fresh-dest limit given as text", { freshDestMaxFiles: "500" }, /freshDestMaxFiles: Expected number, received string; got "500"$/],
        ["destLost given as text", { phase: "warm-sync", destLost: "yes" }, /destLost: Expected boolean, received string; got "yes"$/],
        [
            "a dns.json path with '..'",
            { registers: [{ name: "reg-master", host: "10.0.0.13", hostKey: sourceHostKey, dnsJson: "../etc/dns.json" }] },
            /registers\.0\.dnsJson: expected a folder relative to PRYV_CONF_ROOT.*got "\.\.\/etc\/dns\.json"/,
        ],
        [
            "a register name with spaces",
            { registers: [{ name: "reg master", host: "10.0.0.13", hostKey: sourceHostKey }] },
            /registers\.0\.name: expected a short lower-case name like reg-master; got "reg master"/,
        ],
        ["a register without a pinned host key", { registers: [{ name: "reg-master", host: "10.0.0.13" }] }, /registers\.0\.hostKey: required/],
        [
            "the dns phase without registers",
            { phase: "dns", registers: [] },
            /registers: expected at least one register \(reg-master, reg-slave\) from phase dns on/,
        ],
        [
            "a proxy site file outside PRYV_CONF_ROOT",
            { proxy: { siteFile: "/etc/nginx/nginx.conf" } },
            /proxy\.siteFile: expected a folder relative to PRYV_CONF_ROOT/,
        ],
        [
            "a trusted certificate path with a space",
            { proxy: { trustedCertificate: "/etc/ssl/my ca.pem" } },
            /proxy\.trustedCertificate: expected an absolute path/,
        ],
    ];
    for (const [what, overrides, message] of refusals) {
        it(`refuses ${what}, naming the key`, () => assert.match(refusal(overrides), message));
    }

    it("refuses the former proxy phase, saying where it went", () => {
        assert.equal(
            refusal({ phase: "proxy" }),
            "Invalid stack config for pryv-core-migration:\n" +
                '  phase: expected one of prepare, warm-sync, cutover, dns, finalize (proxy is now part of cutover, which ends with source\'s nginx proxying to dest: set cutover); got "proxy"',
        );
    });

    it("reports every bad key at once", () => {
        const message = refusal({ destCoreIp: "x", coreSubdomain: "a.b" });
        assert.match(message, /destCoreIp/);
        assert.match(message, /coreSubdomain/);
    });

    it("never shows the private key in a message", () => {
        assert.doesNotMatch(refusal({ operatorPrivateKey: "-----BEGIN nonsense secret-material" }), /secret-material/);
    });

    it("refuses a stack name that cannot be a marker", () => {
        assert.throws(() => parseMigrationConfig(rawConfig(), "a b"), /Invalid stack name "a b"/);
    });

    it("orders phases as the procedure does", () => {
        assert.deepEqual(phases, ["prepare", "warm-sync", "cutover", "dns", "finalize"]);
        assert.equal(phaseReached("cutover", "warm-sync"), true);
        assert.equal(phaseReached("prepare", "warm-sync"), false);
        assert.equal(phaseReached("dns", "cutover"), true);
    });
});
