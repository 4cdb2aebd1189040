import * as pulumi from "@pulumi/pulumi";
import { isDeepStrictEqual } from "util";
import { isMap, isScalar, isSeq, parseDocument, Scalar, YAMLMap, YAMLSeq } from "yaml";

/** Where Pryv v1's platform.yml keeps each core's address: the templates from 1.6 on, then the flat ones of early 2020. */
const hostingsPaths = [
    ["vars", "MACHINES_AND_PLATFORM_SETTINGS", "settings", "HOSTINGS_AND_CORES", "value"],
    ["vars", "HOSTINGS_AND_CORES"],
];

export interface PlatformEdit {
    /** The key changed, as a dotted path, for the preview. */
    key: string;
    /** The address as read (a list's joined by ", "). */
    previousIp: string;
    newIp: string;
    /** The hosting that holds the core, as the registers' dns.json names it too (net.hostings.<hosting>.<core>.ip). */
    hosting: string;
    /** The whole file after the edit: only the one value differs, byte for byte. */
    content: string;
}

const refuse = (message: string): never => {
    throw new pulumi.ResourceError(message, undefined, true);
};

/** The address in the original's own style: quoted as it was; a list stays a list of one, flow or block. */
function replacement(node: Scalar | YAMLSeq, newIp: string): string {
    if (isSeq(node)) return node.flow ? `[${newIp}]` : `- ${newIp}`;
    if (node.type === Scalar.QUOTE_DOUBLE) return JSON.stringify(newIp);
    if (node.type === Scalar.QUOTE_SINGLE) return `'${newIp}'`;
    // A plain IPv6 address would read as a mapping in some places: quoted, as YAML reads it the same.
    return newIp.includes(":") ? JSON.stringify(newIp) : newIp;
}

const plain = (node: Scalar | YAMLSeq): unknown => node.toJSON();

/**
 * Sets <hosting>.<core>.ip under HOSTINGS_AND_CORES in the config leader's platform.yml:
 * the value's own characters are replaced in the file as read, so comments, quotes, order
 * and indentation stay as they were; the result is parsed again and must differ from the
 * original in that one value only. `hosting` names the hosting when several hold the core.
 */
export function editPlatformYml(text: string, coreSubdomain: string, newIp: string, hosting: string | undefined, what: string): PlatformEdit {
    const document = parseDocument(text);
    if (document.errors.length > 0) refuse(`${what} is not valid YAML: ${document.errors[0].message.split("\n")[0]}`);
    const found = hostingsPaths.map((path) => ({ path, node: document.getIn(path, true) })).find(({ node }) => isMap(node));
    if (found === undefined) refuse(`${what} has no HOSTINGS_AND_CORES map (${hostingsPaths.map((path) => path.join(".")).join(", or ")})`);
    const hostings = found!.node as YAMLMap;
    const holders = hostings.items.filter((pair) => isMap(pair.value) && pair.value.has(coreSubdomain)).map((pair) => String(plain(pair.key as Scalar)));
    const hostingsKey = found!.path.join(".");
    if (hosting !== undefined && !holders.includes(hosting)) {
        refuse(`hosting: ${what} has no ${coreSubdomain} under ${hostingsKey}.${hosting}; the hostings holding it: ${holders.join(", ") || "none"}`);
    }
    if (hosting === undefined && holders.length !== 1) {
        refuse(
            holders.length === 0
                ? `${what} has no hosting under ${hostingsKey} holding ${coreSubdomain}: is coreSubdomain right?`
                : `${what} has ${coreSubdomain} under several hostings (${holders.join(", ")}): set hosting to the one that moves`,
        );
    }
    const chosen = hosting ?? holders[0];
    const path = [...found!.path, chosen, coreSubdomain, "ip"];
    const key = path.join(".");
    const node = document.getIn(path, true);
    const isAddressList = isSeq(node) && node.items.length > 0 && node.items.every((item) => isScalar(item) && typeof item.value === "string");
    if (!(isScalar(node) && typeof node.value === "string") && !isAddressList)
        refuse(`${what} has no address at ${key} (expected a string or a list of strings)`);
    const ip = node as Scalar | YAMLSeq;
    // A block list's range runs to the next key's line: it ends here with its last item's value.
    const [start] = ip.range!;
    const end = isSeq(ip) && !ip.flow ? (ip.items[ip.items.length - 1] as Scalar).range![1] : ip.range![1];
    const content = text.slice(0, start) + replacement(ip, newIp) + text.slice(end);

    const previousIp = isSeq(ip) ? (plain(ip) as string[]).join(", ") : String(ip.value);
    // The file as YAML reads it must be the original with that one value set, nothing else.
    const edited = parseDocument(content);
    document.setIn(path, isSeq(ip) ? [newIp] : newIp);
    if (edited.errors.length > 0 || !isDeepStrictEqual(edited.toJS(), document.toJS())) {
        refuse(`${what}: replacing the characters of ${key} would change more than that value; edit the file by hand`);
    }
    return { key, previousIp, newIp, hosting: chosen, content };
}
