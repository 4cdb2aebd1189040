import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import {
    absoluteDataFolderProblems,
    dataFolderNameProblems,
    dataFolderProblems,
    defaultDataFolders,
    destCoreIpProblems,
    destLostProblems,
    parseMigrationConfig,
    phaseReached,
    phases,
    registerMachineProblems,
    sourceDestProblems,
} from ".";
import { destHostKey, rawConfig, registerHostKeys, sourceHostKey } from "../testing";

function refusal(overrides: Record<string, unknown>): string {
    try {
        parseMigrationConfig(rawConfig(overrides), "unit");
    } catch (error) {
        assert.ok(error instanceof pulumi.ResourceError, `expected a ResourceError, got ${String(error)}`);
        return error.message;
    }
    assert.fail(`config was accepted: ${JSON.stringify(overrides)}`);
}

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

describe("config checks beyond the schema", () => {
    const header = "Invalid stack config for pryv-core-migration:\n";
    const source = { host: "10.0.0.11", port: 22, hostKey: sourceHostKey };
    const dest = { host: "dest.example.com", port: 2222, hostKey: destHostKey };
    const regMaster = { name: "reg-master", host: "10.0.0.13", port: 22, hostKey: registerHostKeys[0] };

    describe("source and dest are two machines", () => {
        it("accepts two machines, and two ports of one host with two host keys (a forwarding bastion)", () => {
            assert.deepEqual(sourceDestProblems(source, dest), []);
            assert.deepEqual(
                sourceDestProblems({ ...source, host: "bastion.example.com", port: 2201 }, { ...dest, host: "bastion.example.com", port: 2202 }),
                [],
            );
        });

        it("refuses the same host and port", () => {
            assert.deepEqual(sourceDestProblems(source, { ...dest, host: "10.0.0.11", port: 22 }), [
                "source, dest: expected two different machines; got the same host and port (10.0.0.11:22) for both",
            ]);
        });

        it("compares IPv6 addresses as addresses and host names without case", () => {
            assert.deepEqual(sourceDestProblems({ ...source, host: "2001:db8::11" }, { ...dest, host: "2001:DB8:0:0::11", port: 22 }), [
                "source, dest: expected two different machines; got the same host and port ([2001:db8::11]:22) for both",
            ]);
            assert.deepEqual(sourceDestProblems({ ...source, host: "Core1.example.com" }, { ...dest, host: "core1.example.com", port: 22 }), [
                "source, dest: expected two different machines; got the same host and port (Core1.example.com:22) for both",
            ]);
        });

        it("refuses the same host key under two names", () => {
            assert.deepEqual(sourceDestProblems(source, { ...dest, hostKey: sourceHostKey }), [
                "source, dest: expected two different machines; got the same hostKey for both",
            ]);
        });

        it("refuses through parseMigrationConfig, saying everything that matched", () => {
            assert.equal(
                refusal({ dest: { host: "10.0.0.11", hostKey: sourceHostKey } }),
                `${header}  source, dest: expected two different machines; got the same host and port (10.0.0.11:22) and the same hostKey for both`,
            );
        });
    });

    describe("destCoreIp", () => {
        const expected = "destCoreIp: expected dest's public IP address, which the registers' DNS will answer for the core; got";
        it("accepts a public or private address that is not source's", () => {
            for (const ip of ["203.0.113.12", "10.0.0.12", "2001:db8::12"]) assert.deepEqual(destCoreIpProblems(ip, { host: "10.0.0.11" }), [], ip);
        });

        const unroutable: [string, string][] = [
            ["0.0.0.0", "an unspecified address (0.0.0.0/8, ::)"],
            ["::", "an unspecified address (0.0.0.0/8, ::)"],
            ["127.0.0.1", "a loopback address (127.0.0.0/8, ::1)"],
            ["127.1.2.3", "a loopback address (127.0.0.0/8, ::1)"],
            ["::1", "a loopback address (127.0.0.0/8, ::1)"],
            ["::ffff:127.0.0.1", "a loopback address (127.0.0.0/8, ::1)"],
            ["169.254.10.20", "a link-local address (169.254.0.0/16, fe80::/10)"],
            ["fe80::1", "a link-local address (169.254.0.0/16, fe80::/10)"],
            ["febf::1", "a link-local address (169.254.0.0/16, fe80::/10)"],
        ];
        for (const [ip, kind] of unroutable) {
            it(`refuses ${ip}, ${kind}`, () => {
                assert.deepEqual(destCoreIpProblems(ip, { host: "10.0.0.11" }), [`${expected} ${JSON.stringify(ip)}, ${kind} that no user can reach`]);
            });
        }

        it("refuses source's address, from source.host or source.addressForPeers when it is an IP", () => {
            assert.deepEqual(destCoreIpProblems("10.0.0.11", { host: "10.0.0.11" }), [`${expected} "10.0.0.11", which is source's address (source.host)`]);
            assert.deepEqual(destCoreIpProblems("2001:db8::11", { host: "core1.example.com", addressForPeers: "2001:db8:0::11" }), [
                `${expected} "2001:db8::11", which is source's address (source.addressForPeers)`,
            ]);
            assert.deepEqual(destCoreIpProblems("10.0.0.11", { host: "core1.example.com", addressForPeers: "core1.internal" }), []);
        });

        it("refuses through parseMigrationConfig", () => {
            assert.equal(refusal({ destCoreIp: "10.0.0.11" }), `${header}  ${expected} "10.0.0.11", which is source's address (source.host)`);
            assert.equal(
                refusal({ destCoreIp: "127.0.0.1" }),
                `${header}  ${expected} "127.0.0.1", a loopback address (127.0.0.0/8, ::1) that no user can reach`,
            );
        });
    });

    describe("registers are machines of their own", () => {
        it("accepts registers apart from source and dest", () => {
            assert.deepEqual(registerMachineProblems([regMaster, { ...regMaster, name: "reg-slave", host: "10.0.0.14" }], source, dest), []);
        });

        it("refuses a register on source or dest, naming which", () => {
            assert.deepEqual(
                registerMachineProblems(
                    [
                        { ...regMaster, host: "10.0.0.11" },
                        { ...regMaster, name: "reg-slave", hostKey: destHostKey },
                    ],
                    source,
                    dest,
                ),
                [
                    "registers.0 (reg-master): expected a machine other than source and dest; got the same host and port (10.0.0.11:22) as source",
                    "registers.1 (reg-slave): expected a machine other than source and dest; got the same hostKey as dest",
                ],
            );
            assert.deepEqual(registerMachineProblems([{ ...regMaster, host: "10.0.0.11", hostKey: destHostKey }], source, dest), [
                "registers.0 (reg-master): expected a machine other than source and dest; got the same host and port (10.0.0.11:22) as source, and the same hostKey as dest",
            ]);
        });

        it("refuses through parseMigrationConfig", () => {
            const registers = [
                { name: "reg-master", host: "10.0.0.13", hostKey: registerHostKeys[0] },
                { name: "reg-slave", host: "10.0.0.14", hostKey: sourceHostKey },
            ];
            assert.equal(
                refusal({ registers }),
                `${header}  registers.1 (reg-slave): expected a machine other than source and dest; got the same hostKey as source`,
            );
        });
    });

    describe("data folders keep distinct names where a path cannot be used", () => {
        it("refuses two folders that share a resource name, naming both", () => {
            assert.deepEqual(dataFolderNameProblems(["core/mongodb/data", "core/core-data", "core-core/data"]), [
                `dataFolders.1, dataFolders.2: expected folders whose names stay distinct in resource names, logs and manifests ("core-core-data"); got "core/core-data" and "core-core/data"`,
            ]);
            assert.match(
                refusal({ dataFolders: ["core/core-data", "core-core/data"] }),
                /^ {2}dataFolders\.0, dataFolders\.1: expected folders whose names stay distinct in resource names/m,
            );
        });

        it("refuses two that share a migration key file", () => {
            assert.deepEqual(dataFolderNameProblems(["core/core_data", "core_core/data"]), [
                `dataFolders.0, dataFolders.1: expected folders whose names stay distinct in migration key files ("core_core_data"); got "core/core_data" and "core_core/data"`,
            ]);
        });

        it("accepts the defaults", () => {
            assert.deepEqual(dataFolderNameProblems(defaultDataFolders), []);
        });
    });

    describe("data folders hold users' data only", () => {
        const siteFile = "core/nginx/conf/site-443.conf";
        const registers = [{ name: "reg-master" }, { name: "reg-slave", dnsJson: "registers/reg-slave/dns.json" }];
        const nginx = `the nginx configuration (proxy.siteFile ${siteFile}): its cold sync would overwrite dest's nginx and certificates`;
        const problem = (index: number, folder: string, what: string) =>
            `dataFolders.${index}: expected a folder of users' data; got "${folder}", which holds ${what}`;

        it("accepts the default folders, and a name that only starts like the nginx folder", () => {
            assert.deepEqual(dataFolderProblems([...defaultDataFolders, "core/nginxdata", "reg-masters"], siteFile, registers), []);
        });

        it("refuses a folder that holds the nginx configuration", () => {
            assert.deepEqual(dataFolderProblems(["core/core/data", "core"], siteFile, registers), [problem(1, "core", nginx)]);
            assert.deepEqual(dataFolderProblems(["core/nginx"], siteFile, registers), [problem(0, "core/nginx", nginx)]);
            assert.deepEqual(dataFolderProblems([siteFile], siteFile, registers), [problem(0, siteFile, nginx)]);
        });

        it("refuses a folder that is, is inside or holds a register's files", () => {
            assert.deepEqual(dataFolderProblems(["reg-master", "reg-master/dns", "registers"], siteFile, registers), [
                problem(0, "reg-master", "register reg-master's files (registers.0: reg-master/, reg-master/dns/conf/dns.json, reg-master/dns/dns.json)"),
                problem(1, "reg-master/dns", "register reg-master's files (registers.0: reg-master/, reg-master/dns/conf/dns.json, reg-master/dns/dns.json)"),
                problem(2, "registers", "register reg-slave's files (registers.1: reg-slave/, registers/reg-slave/dns.json)"),
            ]);
        });

        it("names everything a folder holds", () => {
            assert.deepEqual(dataFolderProblems(["shared"], "shared/nginx/site-443.conf", [{ name: "reg-master", dnsJson: "shared/dns.json" }]), [
                problem(
                    0,
                    "shared",
                    "the nginx configuration (proxy.siteFile shared/nginx/site-443.conf): its cold sync would overwrite dest's nginx and certificates, and register reg-master's files (registers.0: reg-master/, shared/dns.json)",
                ),
            ]);
        });

        it("refuses through parseMigrationConfig, every folder at once", () => {
            assert.equal(
                refusal({ dataFolders: ["core/mongodb/data", "core/nginx", "reg-slave"] }),
                `${header}  ${problem(1, "core/nginx", nginx)}\n  ${problem(2, "reg-slave", "register reg-slave's files (registers.1: reg-slave/, reg-slave/dns/conf/dns.json, reg-slave/dns/dns.json)")}`,
            );
        });
    });

    describe("data folders outside confRoot, named by their absolute path (the audit trail)", () => {
        const confRoots = [
            { role: "source", confRoot: "/var/pryv" },
            { role: "dest", confRoot: "/srv/pryv" },
        ];
        const problem = (index: number, folder: string, what: string) =>
            `dataFolders.${index}: expected a folder of users' data outside confRoot; got "${folder}": ${what}`;

        it("accepts the audit trail beside the default folders, and a folder whose name only starts like confRoot", () => {
            const folders = [...defaultDataFolders, "/var/log/pryv/audit", "/var/pryvdata/extra"];
            assert.deepEqual(absoluteDataFolderProblems(folders, confRoots), []);
            assert.deepEqual(parseMigrationConfig(rawConfig({ dataFolders: folders }), "unit").dataFolders, folders);
        });

        it("refuses one in either machine's confRoot, saying how to list it, and one holding a confRoot", () => {
            assert.deepEqual(absoluteDataFolderProblems(["/var/pryv/core/audit", "/srv/pryv/x", "/srv"], confRoots), [
                problem(0, "/var/pryv/core/audit", `it lies in source.confRoot (/var/pryv): list it relative to confRoot, as "core/audit"`),
                problem(1, "/srv/pryv/x", `it lies in dest.confRoot (/srv/pryv): list it relative to confRoot, as "x"`),
                problem(2, "/srv", "it holds dest.confRoot (/srv/pryv): list the folders of users' data, not what holds them"),
            ]);
        });

        it("refuses one that is or holds a system folder, or lies in the machine's programs and configuration", () => {
            assert.deepEqual(absoluteDataFolderProblems(["/var/log", "/var", "/etc/pryv", "/usr/local/pryv"], confRoots), [
                problem(0, "/var/log", "it holds the system folder /var/log"),
                problem(
                    1,
                    "/var",
                    "it holds source.confRoot (/var/pryv): list the folders of users' data, not what holds them; it holds the system folder /var/lib; it holds the system folder /var/log",
                ),
                problem(2, "/etc/pryv", "it lies in the system folder /etc"),
                problem(3, "/usr/local/pryv", "it lies in the system folder /usr"),
            ]);
        });

        it("refuses through parseMigrationConfig, and a path of one segment or with '..' in the schema", () => {
            assert.match(
                refusal({ dataFolders: ["core/core/data", "/var/log"] }),
                /^ {2}dataFolders\.1: expected a folder of users' data outside confRoot; got "\/var\/log": it holds the system folder \/var\/log$/m,
            );
            for (const folder of ["/audit", "/var/log/../pryv", "/var//log", "/var/log/pryv/audit/"]) {
                assert.match(
                    refusal({ dataFolders: [folder] }),
                    /dataFolders\.0: expected a folder relative to PRYV_CONF_ROOT \(like core\/mongodb\/data\), or one outside it by its absolute path \(like \/var\/log\/pryv\/audit\)/,
                    folder,
                );
            }
        });

        it("refuses one whose name collides with a folder in confRoot", () => {
            assert.deepEqual(dataFolderNameProblems(["var/log/pryv/audit", "/var/log/pryv/audit"]).length, 2);
        });
    });

    describe("destLost", () => {
        const problem = (phase: string) =>
            `destLost: expected only with phase cutover, warm-sync or prepare (with dest gone for good the migration can only go back to source, giving up dest's writes since the cutover); got true with phase "${phase}": set phase to cutover`;

        it("is allowed where the migration goes back to source: cutover (undos rewritten first), warm-sync and prepare", () => {
            assert.deepEqual(
                phases.filter((phase) => destLostProblems(true, phase).length === 0),
                ["prepare", "warm-sync", "cutover"],
            );
            assert.deepEqual(destLostProblems(true, "dns"), [problem("dns")]);
            assert.ok(phases.every((phase) => destLostProblems(false, phase).length === 0));
        });

        it("refuses through parseMigrationConfig", () => {
            assert.equal(refusal({ phase: "dns", destLost: true }), `${header}  ${problem("dns")}`);
        });
    });

    it("lists every problem at once", () => {
        assert.equal(
            refusal({ phase: "dns", dest: { host: "10.0.0.11", port: 22, hostKey: destHostKey }, destCoreIp: "::", dataFolders: ["core"], destLost: true }),
            [
                "Invalid stack config for pryv-core-migration:",
                "  source, dest: expected two different machines; got the same host and port (10.0.0.11:22) for both",
                `  destCoreIp: expected dest's public IP address, which the registers' DNS will answer for the core; got "::", an unspecified address (0.0.0.0/8, ::) that no user can reach`,
                `  dataFolders.0: expected a folder of users' data; got "core", which holds the nginx configuration (proxy.siteFile core/nginx/conf/site-443.conf): its cold sync would overwrite dest's nginx and certificates`,
                `  destLost: expected only with phase cutover, warm-sync or prepare (with dest gone for good the migration can only go back to source, giving up dest's writes since the cutover); got true with phase "dns": set phase to cutover`,
            ].join("\n"),
        );
    });
});
