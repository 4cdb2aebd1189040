import * as jsonc from "jsonc-parser";
import * as pulumi from "@pulumi/pulumi";

export interface DnsEdit {
    /** The key changed, as a dotted path, for the preview. */
    key: string;
    previousIp: string;
    newIp: string;
    /** The whole file after the edit: only the one value differs. */
    content: string;
}

/**
 * Sets dns.staticDataInDomain.<subdomain>.ip in a register's dns.json with a JSON-aware
 * edit (jsonc-parser): every other key, the order, the indentation and the line ends
 * stay as they were.
 */
export function editDnsJson(text: string, subdomain: string, newIp: string, what: string): DnsEdit {
    const path = ["dns", "staticDataInDomain", subdomain, "ip"];
    const key = path.join(".");
    const errors: jsonc.ParseError[] = [];
    const tree = jsonc.parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
    if (tree === undefined || errors.length > 0) {
        const at = errors[0] === undefined ? "" : ` (${jsonc.printParseErrorCode(errors[0].error)} at offset ${errors[0].offset})`;
        throw new pulumi.ResourceError(`${what} is not valid JSON${at}`, undefined, true);
    }
    const node = jsonc.findNodeAtLocation(tree, path);
    if (node === undefined || node.type !== "string") {
        throw new pulumi.ResourceError(`${what} has no string ${key}: is coreSubdomain right?`, undefined, true);
    }
    const edits = jsonc.modify(text, path, newIp, {});
    return { key, previousIp: String(node.value), newIp, content: jsonc.applyEdits(text, edits) };
}
