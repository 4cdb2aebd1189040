import { strict as assert } from "assert";
import {
    absoluteDataFolderProblems,
    dataFolderNameProblems,
    dataFolderProblems,
    layouts,
    defaultDataFolders,
    destCoreIpProblems,
    destLostProblems,
    parseMigrationConfig,
    phases,
    registerMachineProblems,
    sourceDestProblems,
} from ".";
import { configRefusal as refusal, destHostKey, rawConfig, registerHostKeys, sourceHostKey } from "../testing";

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
            assert.deepEqual(dataFolderProblems([...defaultDataFolders, "core/nginxdata", "reg-masters"], siteFile, registers, layouts["pryv-2019"]), []);
        });

        it("refuses a folder that holds the nginx configuration", () => {
            assert.deepEqual(dataFolderProblems(["core/core/data", "core"], siteFile, registers, layouts["pryv-2019"]), [problem(1, "core", nginx)]);
            assert.deepEqual(dataFolderProblems(["core/nginx"], siteFile, registers, layouts["pryv-2019"]), [problem(0, "core/nginx", nginx)]);
            assert.deepEqual(dataFolderProblems([siteFile], siteFile, registers, layouts["pryv-2019"]), [problem(0, siteFile, nginx)]);
        });

        it("refuses a folder that is, is inside or holds a register's files", () => {
            assert.deepEqual(dataFolderProblems(["reg-master", "reg-master/dns", "registers"], siteFile, registers, layouts["pryv-2019"]), [
                problem(0, "reg-master", "register reg-master's files (registers.0: reg-master/, reg-master/dns/conf/dns.json, reg-master/dns/dns.json)"),
                problem(1, "reg-master/dns", "register reg-master's files (registers.0: reg-master/, reg-master/dns/conf/dns.json, reg-master/dns/dns.json)"),
                problem(2, "registers", "register reg-slave's files (registers.1: reg-slave/, registers/reg-slave/dns.json)"),
            ]);
        });

        it("names everything a folder holds", () => {
            assert.deepEqual(
                dataFolderProblems(["shared"], "shared/nginx/site-443.conf", [{ name: "reg-master", dnsJson: "shared/dns.json" }], layouts["pryv-2019"]),
                [
                    problem(
                        0,
                        "shared",
                        "the nginx configuration (proxy.siteFile shared/nginx/site-443.conf): its cold sync would overwrite dest's nginx and certificates, and register reg-master's files (registers.0: reg-master/, shared/dns.json)",
                    ),
                ],
            );
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
