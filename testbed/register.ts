// A register machine's PRYV_CONF_ROOT as a 2019 cluster install leaves it: the
// register's dns.json, and run-reg / stop-containers driving a DNS stand-in in
// place of the register's containers.
import * as fs from "fs";
import * as path from "path";
import { writeFixtureScripts } from "./fixture-scripts";
import { hostIp, HostName } from "./network";

export type RegisterName = Extract<HostName, "reg-master" | "reg-slave">;

export const isRegister = (h: HostName): h is RegisterName => h === "reg-master" || h === "reg-slave";

/**
 * Addresses of the entries that name no test host. They need not be reachable:
 * they only have to come back from the register unchanged.
 */
export const REGISTER_STATIC_IPS = { sw: "10.213.7.21", mail: "10.213.7.22", domainA: "10.213.7.20" } as const;

/** Labels dns.json holds besides the core's: a core subdomain may not take one of them. */
export const REGISTER_RESERVED_LABELS = ["sw", "reg", "mail", "dns1", "dns2"];

export interface RegisterDnsJsonOptions {
    domain: string;
    subdomain: string;
    coreIp: string;
}

/** Where a register keeps its dns.json under its confRoot. */
export const dnsJsonPath = (confRoot: string, name: RegisterName): string => `${confRoot}/${name}/dns/dns.json`;

/**
 * The file both registers start with, byte for byte. Laid out the way people edit it
 * by hand, not the way JSON.stringify prints it (one-line entries and arrays): a
 * migration that re-serializes the file instead of changing the one value shows up
 * in a byte comparison. Called again with dest's IP it gives the file expected after
 * the dns phase.
 */
export function registerDnsJson(o: RegisterDnsJsonOptions): string {
    if (REGISTER_RESERVED_LABELS.includes(o.subdomain)) {
        throw new Error(`core subdomain ${o.subdomain} clashes with a register entry (${REGISTER_RESERVED_LABELS.join(", ")})`);
    }
    const d = o.domain;
    const master = hostIp("reg-master");
    const slave = hostIp("reg-slave");
    return `{
  "serial": "2019061201",
  "dns": {
    "port": 53,
    "ip": "0.0.0.0",
    "name": "reg.${d}",
    "domain": "${d}",
    "domains": ["${d}"],
    "nameserver": [
      { "name": "dns1.${d}", "ip": "${master}" },
      { "name": "dns2.${d}", "ip": "${slave}" }
    ],
    "staticDataInDomain": {
      "sw": { "ip": "${REGISTER_STATIC_IPS.sw}" },
      "reg": { "ip": "${master}" },
      "mail": { "ip": "${REGISTER_STATIC_IPS.mail}" },
      "dns1": { "ip": "${master}" },
      "dns2": { "ip": "${slave}" },
      "${o.subdomain}": { "ip": "${o.coreIp}" },
      "_acme-challenge": { "description": "fixture-acme-token" }
    },
    "domain_A": "${REGISTER_STATIC_IPS.domainA}"
  },
  "http": {
    "port": 9000,
    "ip": "0.0.0.0"
  },
  "service": {
    "name": "Pryv.io test fixture",
    "support": "https://sw.${d}/support",
    "terms": "https://sw.${d}/terms",
    "home": "https://sw.${d}",
    "register": "https://reg.${d}/",
    "access": "https://access.${d}/access",
    "api": "https://{username}.${d}/"
  },
  "server": {
    "port": 9000,
    "ip": "0.0.0.0"
  },
  "auth": {
    "authorizedKeys": {
      "fixture-system-key": { "roles": ["system"] },
      "fixture-admin-key": { "roles": ["admin"] }
    }
  },
  "net": {
    "aaservers_ssl": true,
    "AAservers_domain": "${d}",
    "aahostname": "reg.${d}"
  },
  "redis": {
    "host": "redis",
    "port": 6379,
    "password": "fixture-redis-password"
  }
}
`;
}

export interface RegisterLayoutOptions {
    domain: string;
    subdomain: string;
    coreIp: string;
}

function write(file: string, content: string, mode: number): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode); // writeFileSync's mode is filtered by the umask
}

/**
 * NODE_PATH: the stand-in runs from a copy in the host's folder, far from the
 * project's node_modules, and must still find dns2.
 */
export function layOutRegister(host: RegisterName, dir: string, confRoot: string, o: RegisterLayoutOptions, fixtureSource: string): void {
    write(dnsJsonPath(confRoot, host), registerDnsJson(o), 0o644);
    for (const f of ["dns-standin.js", "services.sh"]) fs.copyFileSync(path.join(fixtureSource, f), `${dir}/fixture/${f}`);
    const nodeModules = path.dirname(path.dirname(require.resolve("dns2/package.json")));
    writeFixtureScripts(host, dir, confRoot, { NODE_PATH: nodeModules, HOST_IP: hostIp(host) }, [
        { name: `run-${host}`, purpose: "starts the register's DNS server", call: "run_reg" },
        { name: "stop-containers", purpose: "stops every service", call: "stop_containers" },
    ]);
}
