// The installs the program moves, each as the defaults it gives the settings, in one
// table a reader compares side by side (the README's "Layouts" shows the same values).
// Every value stays overridable by its own setting. `<confRoot>` stands for the machine's
// confRoot, `<name>` for a register's name.

export const layoutNames = ["pryv-2019", "pryv-v1"] as const;
export type LayoutName = (typeof layoutNames)[number];

export interface Layout {
    /** Which install, in words. */
    install: string;
    /** The core's compose file, relative to confRoot: dest must run the same images (raw database files need the same versions). */
    composeFile: string;
    /** The words that run it: the proxy's commands start with them. */
    compose: string[];
    /** Starts every service of the core (source.startCommand, dest.startCommand). */
    startCommand: string[];
    /** Stops every service of the core, nginx included (source.stopCommand, dest.stopCommand). */
    stopCommand: string[];
    /** Source's nginx file, which the cutover replaces by the proxy file (proxy.siteFile, relative to confRoot). */
    siteFile: string;
    /** The compose service of nginx (proxy.service). */
    proxyService: string;
    /** Users' data (dataFolders, relative to confRoot). */
    dataFolders: string[];
    /**
     * What rewrites source's nginx file behind the program's back (proxy.configFollower):
     * stopped before the proxy file is written, started again by the undo.
     */
    configFollower?: { stopCommand: string[]; startCommand: string[] };
    /** A register's defaults (registers.N.startCommand, .stopCommand, .dnsJson: where, relative to confRoot, the first that exists). */
    register: { startCommand: string[]; stopCommand: string[]; dnsJson: string[] };
    /**
     * Where the registers take the core's address from: unset, each from its own dns.json,
     * which the dns phase edits; else from this file on the config leader (configLeader),
     * from which every register's config follower writes its dns.json, and which the dns
     * phase edits instead.
     */
    platformYml?: { leader: string; file: string };
}

/** The words that run a compose file: Pryv v1's files read PRYV_CONF_ROOT, which its own scripts export. */
const compose = (file: string, readsConfRoot: boolean): string[] => [
    ...(readsConfRoot ? ["env", "PRYV_CONF_ROOT=<confRoot>"] : []),
    "docker-compose",
    "-f",
    `<confRoot>/${file}`,
];

export const layouts: Record<LayoutName, Layout> = {
    "pryv-2019": {
        install: "Pryv.io of 2019 (the written procedure's): `core/<service>/...`, `run-core`, `stop-containers`",
        composeFile: "core.yml",
        compose: compose("core.yml", false),
        startCommand: ["<confRoot>/run-core"],
        stopCommand: ["<confRoot>/stop-containers"],
        siteFile: "core/nginx/conf/site-443.conf",
        proxyService: "reverse_proxy",
        dataFolders: ["core/mongodb/data", "core/core/data", "core/influxdb/data", "core/hfs/data"],
        // Pryv's 2019 template, then the written procedure's path.
        register: {
            startCommand: ["<confRoot>/run-<name>"],
            stopCommand: ["<confRoot>/stop-containers"],
            dnsJson: ["<name>/dns/conf/dns.json", "<name>/dns/dns.json"],
        },
    },
    "pryv-v1": {
        install: "Pryv.io v1.6-1.9: `pryv/<service>/...`, `run-pryv`, a config follower on every machine",
        composeFile: "pryv/pryv.yml",
        compose: compose("pryv/pryv.yml", true),
        startCommand: ["<confRoot>/run-pryv"],
        // Not stop-pryv: its `down` removes the networks too, which the config follower's
        // containers share, and exits 1 while the follower runs (containers removed all the
        // same). `rm --stop --force` removes the same containers and leaves the networks.
        stopCommand: [...compose("pryv/pryv.yml", true), "rm", "--stop", "--force"],
        siteFile: "pryv/nginx/conf/site-443.conf",
        proxyService: "reverse_proxy",
        // 1.6 keeps hfs's files in pryv/hfs/data: add it there.
        dataFolders: ["pryv/mongodb/data", "pryv/core/data", "pryv/influxdb/data"],
        configFollower: {
            // Not stop-config-follower, for the same reason as stopCommand.
            stopCommand: [...compose("config-follower/config-follower.yml", true), "rm", "--stop", "--force"],
            startCommand: ["<confRoot>/run-config-follower"],
        },
        register: {
            startCommand: ["<confRoot>/run-pryv"],
            stopCommand: [...compose("pryv/pryv.yml", true), "rm", "--stop", "--force"],
            dnsJson: ["pryv/dns/conf/dns.json"],
        },
        platformYml: { leader: "reg-master", file: "config-leader/conf/platform.yml" },
    },
};

/** A layout's words with the machine's confRoot (and a register's name) in place. */
export const onMachine = (words: string[], confRoot: string, name = ""): string[] =>
    words.map((word) => word.split("<confRoot>").join(confRoot).split("<name>").join(name));
