import { strict as assert } from "assert";
import type { NginxParseTreeNode } from "nginx-conf/dist/src/parser";
import { childrenNamed, ownedUpstreams, parseNginx, renderProxyFile, siteLayout } from "./nginxProxyFile";
import { originalSite } from "../testing";
import { v1Site443 } from "../testbed/docker/v1";

const settings = {
    migrationId: "unit",
    domain: "pryv.example.com",
    destIp: "192.0.2.12",
    verifyDestCertificate: true,
    trustedCertificate: "/etc/ssl/certs/ca-certificates.crt",
    originalFile: "/var/pryv/core/nginx/conf/site-443.conf.pryv-migration-original",
};
const rendered = () => parseNginx(renderProxyFile(siteLayout(originalSite, "site-443.conf"), settings), "rendered");
const directive = (node: NginxParseTreeNode, name: string) => childrenNamed(node, name).map((child) => child.value);

describe("the proxy site file, parsed", () => {
    it("points every upstream, Pryv's and the install's own, at dest:443 only", () => {
        const upstreams = childrenNamed(rendered(), "upstream");
        assert.deepEqual(
            upstreams.map((u) => u.value),
            [...ownedUpstreams, "audit_server"],
        );
        for (const upstream of upstreams) {
            assert.deepEqual(
                (upstream.children ?? []).map((c: NginxParseTreeNode) => [c.name, c.value]),
                [["server", "192.0.2.12:443"]],
                upstream.value,
            );
        }
    });

    it("proxies every location over https, websocket included, to the upstream the original used", () => {
        const [server] = childrenNamed(rendered(), "server");
        const locations = Object.fromEntries(childrenNamed(server, "location").map((l) => [l.value, directive(l, "proxy_pass")]));
        assert.deepEqual(locations, {
            "= /": ["https://core_server"],
            "/": ["https://core_server"],
            "/previews/": ["https://preview_server"],
            "~* ^/events/[^/]+/series$": ["https://hfs_server"],
            "~* ^/series/batch$": ["https://hfs_server"],
            "/socket.io/": ["https://websocket_server"],
            "/audit/": ["https://audit_server"],
            "@dest_not_serving_yet": [],
        });
    });

    it("answers 503 with Retry-After, not 502, while dest does not serve yet", () => {
        const [server] = childrenNamed(rendered(), "server");
        assert.deepEqual(directive(server, "error_page"), ["502 504 = @dest_not_serving_yet"]);
        const [notServing] = childrenNamed(server, "location").filter((location) => location.value === "@dest_not_serving_yet");
        assert.deepEqual(
            (notServing.children ?? []).map((child: NginxParseTreeNode) => [child.name, child.value]),
            [
                ["add_header", "Retry-After 5 always"],
                ["return", "503"],
            ],
        );
    });

    it("says in its opening comment that the migration wrote it and where the original waits", () => {
        const text = renderProxyFile(siteLayout(originalSite, "site-443.conf"), settings);
        assert.ok(
            text.startsWith(
                "# Written by pryv-core-migration (migration unit). While DNS propagates, this\n# machine proxies every call to dest (192.0.2.12) over HTTPS,",
            ),
            text,
        );
        assert.match(text, /The original\n# file waits beside this one \(\/var\/pryv\/core\/nginx\/conf\/site-443\.conf\.pryv-migration-original\)/);
    });

    it("passes the upgrade headers, the original Host and SNI, and verifies dest's certificate", () => {
        const [server] = childrenNamed(rendered(), "server");
        assert.deepEqual(directive(server, "proxy_http_version"), ["1.1"]);
        assert.deepEqual(directive(server, "proxy_set_header").slice(0, 3), ["Upgrade $http_upgrade", 'Connection "upgrade"', "Host $host"]);
        assert.deepEqual(directive(server, "proxy_ssl_server_name"), ["on"]);
        assert.deepEqual(directive(server, "proxy_ssl_name"), ["$host"]);
        assert.deepEqual(directive(server, "proxy_ssl_verify"), ["on"]);
        assert.deepEqual(directive(server, "proxy_ssl_trusted_certificate"), ["/etc/ssl/certs/ca-certificates.crt"]);
        assert.deepEqual(directive(server, "listen"), ["443 ssl"]);
        assert.deepEqual(directive(server, "server_name"), ["*.pryv.example.com"]);
        assert.deepEqual(directive(server, "client_max_body_size"), ["5M"]);
        for (const location of childrenNamed(server, "location"))
            assert.deepEqual(directive(location, "proxy_set_header"), [], "a location header would hide the server's");
    });

    it("says plainly what differs from the original", () => {
        assert.deepEqual(siteLayout(originalSite, "site-443.conf").replaced, [
            "upstream audit_server (not in Pryv's 2019 template) now points at dest too",
            "location = /: only its proxy_pass is kept (if left to dest)",
        ]);
    });

    it("writes an IPv6 dest address in brackets", () => {
        const text = renderProxyFile(siteLayout(originalSite, "x"), { ...settings, destIp: "2001:db8::12" });
        assert.deepEqual(directive(childrenNamed(parseNginx(text, "x"), "upstream")[0], "server"), ["[2001:db8::12]:443"]);
    });

    it("refuses an original it cannot mirror, naming the file", () => {
        assert.throws(
            () => siteLayout("server { listen 80; }\nserver { listen 443; }\n", "site-443.conf on source"),
            /site-443\.conf on source has 2 server blocks/,
        );
        assert.throws(() => siteLayout("upstream a { server b; ", "site-443.conf on source"), /site-443\.conf on source is not nginx configuration/);
    });

    it("mirrors a Pryv v1 site file: the follower's and MFA's upstreams at dest too, a proxy_pass with a URI sent on unchanged for dest's own nginx to rewrite", () => {
        // Pryv 1.7+ rewrites /auth/login to the MFA service's /login: dest's nginx must see the original URI.
        const layout = siteLayout(v1Site443("pryv.example.com"), "site-443.conf");
        const tree = parseNginx(renderProxyFile(layout, settings), "rendered");
        const upstreams = childrenNamed(tree, "upstream");
        assert.deepEqual(
            upstreams.map((u) => [u.value, (u.children ?? []).map((c: NginxParseTreeNode) => `${c.name} ${c.value}`)]),
            [...ownedUpstreams, "audit_server", "mfa_server", "follower_server"].map((name) => [name, ["server 192.0.2.12:443"]]),
        );
        const [server] = childrenNamed(tree, "server");
        const locations = Object.fromEntries(childrenNamed(server, "location").map((l) => [l.value, directive(l, "proxy_pass")]));
        assert.deepEqual(locations["/auth/login"], ["https://mfa_server"]);
        assert.deepEqual(locations["/mfa/"], ["https://mfa_server"]);
        assert.deepEqual(locations["/notify"], ["https://follower_server"]);
        assert.deepEqual(
            layout.replaced.filter((line) => /mfa_server|follower_server/.test(line)),
            [
                "upstream mfa_server (not in Pryv's 2019 template) now points at dest too",
                "upstream follower_server (not in Pryv's 2019 template) now points at dest too",
            ],
        );
    });
});
