import * as net from "net";
import * as pulumi from "@pulumi/pulumi";
import { NginxParser } from "nginx-conf";
import type { NginxParseTreeNode } from "nginx-conf/dist/src/parser";
import { render } from "./templates";

/** The upstreams of Pryv's 2019 site-443.conf: the procedure re-points exactly these. */
export const ownedUpstreams = ["core_server", "websocket_server", "hfs_server", "preview_server"];

export interface ProxyLocation {
    match: string;
    upstream: string;
}

/** What the proxy file is made of, read from source's own site-443.conf. */
export interface SiteLayout {
    serverName: string;
    /** Server-level settings of the original that the proxy keeps (body size, logs...). */
    kept: { name: string; value: string }[];
    upstreams: string[];
    locations: ProxyLocation[];
    /** What the proxy file does differently from the original, in words, for the preview. */
    replaced: string[];
}

export function parseNginx(text: string, what: string): NginxParseTreeNode {
    let tree: NginxParseTreeNode | undefined;
    let failure: Error | null = null;
    // The parser calls back synchronously.
    new NginxParser().parse(text, (error, parsed) => {
        failure = error;
        tree = parsed;
    });
    if (failure !== null || tree === undefined)
        throw new pulumi.ResourceError(`${what} is not nginx configuration the migration can read: ${String(failure)}`, undefined, true);
    return tree;
}

export const childrenNamed = (node: NginxParseTreeNode, name: string): NginxParseTreeNode[] =>
    (node.children ?? []).filter((child: NginxParseTreeNode) => child.name === name);

/**
 * Reads the layout of source's site-443.conf: its upstreams, and each location of its
 * https server with the upstream it proxies to. Every upstream, owned or not, goes to
 * dest (dest's nginx routes the call as source's did); a location that proxied nowhere
 * goes to core_server. Both are listed in `replaced`.
 */
export function siteLayout(original: string, what: string): SiteLayout {
    const tree = parseNginx(original, what);
    const upstreams = childrenNamed(tree, "upstream").map((node) => node.value);
    const servers = childrenNamed(tree, "server");
    if (servers.length !== 1) {
        throw new pulumi.ResourceError(
            `${what} has ${servers.length} server blocks; the proxy file is made for the one https server block of Pryv's site-443.conf`,
            undefined,
            true,
        );
    }
    const [server] = servers;
    const replaced = upstreams
        .filter((name) => !ownedUpstreams.includes(name))
        .map((name) => `upstream ${name} (not in Pryv's 2019 template) now points at dest too`);
    const locations = childrenNamed(server, "location").map((location) => {
        const target = /^https?:\/\/([^/:;\s]+)/.exec(childrenNamed(location, "proxy_pass")[0]?.value ?? "")?.[1];
        const others = (location.children ?? []).filter((node: NginxParseTreeNode) => node.name !== "proxy_pass").map((node: NginxParseTreeNode) => node.name);
        if (others.length > 0) replaced.push(`location ${location.value}: only its proxy_pass is kept (${others.join(", ")} left to dest)`);
        if (target !== undefined && upstreams.includes(target)) return { match: location.value, upstream: target };
        replaced.push(`location ${location.value} (${target === undefined ? "no proxy_pass" : `proxy_pass to ${target}`}) now proxies to core_server on dest`);
        return { match: location.value, upstream: "core_server" };
    });
    const serverName = childrenNamed(server, "server_name")[0]?.value ?? "";
    const kept = (server.children ?? [])
        .filter((node: NginxParseTreeNode) => !node.isBlock && !setByTemplate(node.name))
        .map((node: NginxParseTreeNode) => ({ name: node.name, value: node.value }));
    for (const block of (server.children ?? []).filter((node: NginxParseTreeNode) => node.isBlock && node.name !== "location")) {
        replaced.push(`server-level ${block.name} ${block.value} block left out (dest applies its own)`);
    }
    return { serverName, kept, upstreams, locations, replaced };
}

/** Directives the proxy template writes itself; `set` only fed the original's Host header. */
const setByTemplate = (name: string): boolean => ["listen", "server_name", "set"].includes(name) || name.startsWith("proxy_");

export interface ProxyFileSettings {
    migrationId: string;
    domain: string;
    destIp: string;
    verifyDestCertificate: boolean;
    trustedCertificate: string;
    originalFile: string;
}

/** The site-443.conf that makes source's nginx a proxy to dest, rendered from templates/. */
export function renderProxyFile(layout: SiteLayout, settings: ProxyFileSettings): string {
    const upstreams = layout.upstreams.includes("core_server") ? layout.upstreams : ["core_server", ...layout.upstreams];
    return render("site-443-proxy.conf", {
        ...settings,
        destAddress: net.isIPv6(settings.destIp) ? `[${settings.destIp}]` : settings.destIp,
        serverName: layout.serverName || `*.${settings.domain}`,
        upstreams,
        locations: layout.locations,
        kept: layout.kept,
    });
}
