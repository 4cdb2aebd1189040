import { strict as assert } from "assert";
import { editDnsJson } from "./dnsJsonEdit";
import { originalDnsJson } from "../testing";
import { registerDnsJson } from "../testbed/register";

describe("dns.json edit", () => {
    it("changes the one value and nothing else, formatting included", () => {
        const edit = editDnsJson(originalDnsJson, "co1", "192.0.2.12", "dns.json");
        assert.equal(edit.content, registerDnsJson({ domain: "pryv.example.com", subdomain: "co1", coreIp: "192.0.2.12" }));
        assert.deepEqual(
            { ...edit, content: undefined },
            { key: "dns.staticDataInDomain.co1.ip", previousIp: "10.0.0.11", newIp: "192.0.2.12", content: undefined },
        );
        const before = JSON.parse(originalDnsJson) as { dns: { staticDataInDomain: Record<string, { ip: string }> } };
        before.dns.staticDataInDomain.co1.ip = "192.0.2.12";
        assert.deepEqual(JSON.parse(edit.content), before);
    });

    it("refuses a file without the key or that is not JSON, naming it", () => {
        assert.throws(
            () => editDnsJson(originalDnsJson, "co9", "192.0.2.12", "dns.json on reg-master"),
            /dns\.json on reg-master has no string dns\.staticDataInDomain\.co9\.ip/,
        );
        assert.throws(() => editDnsJson('{ "dns": ', "co1", "192.0.2.12", "dns.json on reg-slave"), /dns\.json on reg-slave is not valid JSON/);
    });
});
