import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { editPlatformYml } from "./platformYmlEdit";

// As Pryv's templates from 1.6 on lay it out (config-leader/conf/platform.yml), comments and odd spacing included.
const platform = (ip: string, extra = ""): string => `vars:
  MACHINES_AND_PLATFORM_SETTINGS:
    name: "Machines and platform settings"
    settings:
      DOMAIN:
        value: pryv.example.com
      HOSTINGS_AND_CORES:
        description: "Defines the distribution of cores among the hostings providers"
        value:
          hosting1:
            co1: 
              ip: ${ip}   # moved in 2026
          hosting2:
            co2:
              ip: 10.0.0.21
${extra}  MISCELLANEOUS_SETTINGS:
    name: "Miscellaneous settings"
`;
// Early 2020: the flat vars.
const flat = `vars:
  DOMAIN: pryv.example.com
  HOSTINGS_AND_CORES:
    exoscale.ch-ch:
      co1:
        ip: 10.0.0.11
    gandi.net-fr:
      co2:
        ip: 10.0.0.21
  DNS_CUSTOM_ENTRIES: {}
`;
const what = "config-leader/conf/platform.yml on reg-master";
const key = "vars.MACHINES_AND_PLATFORM_SETTINGS.settings.HOSTINGS_AND_CORES.value.hosting1.co1.ip";

function refusal(run: () => unknown): string {
    try {
        run();
    } catch (error) {
        assert.ok(error instanceof pulumi.ResourceError);
        return error.message;
    }
    assert.fail("accepted");
}

describe("editPlatformYml", () => {
    it("replaces the core's address and nothing else, byte for byte: comments, spacing, the other cores", () => {
        const edit = editPlatformYml(platform("10.0.0.11"), "co1", "192.0.2.12", undefined, what);
        assert.deepEqual(edit, { key, previousIp: "10.0.0.11", newIp: "192.0.2.12", hosting: "hosting1", content: platform("192.0.2.12") });
    });

    it("keeps the quotes the address had", () => {
        assert.equal(editPlatformYml(platform('"10.0.0.11"'), "co1", "192.0.2.12", undefined, what).content, platform('"192.0.2.12"'));
        assert.equal(editPlatformYml(platform("'10.0.0.11'"), "co1", "192.0.2.12", undefined, what).content, platform("'192.0.2.12'"));
    });

    it("quotes an IPv6 address written where the value was plain", () => {
        const edit = editPlatformYml(platform("10.0.0.11"), "co1", "2001:db8::12", undefined, what);
        assert.equal(edit.content, platform('"2001:db8::12"'));
    });

    it("makes a list of addresses a list of dest's one, in the list's own style", () => {
        const flow = editPlatformYml(platform("[10.0.0.11, 10.0.0.12]"), "co1", "192.0.2.12", undefined, what);
        assert.equal(flow.content, platform("[192.0.2.12]"));
        assert.equal(flow.previousIp, "10.0.0.11, 10.0.0.12");
        const block = (items: string[]) =>
            platform("").replace("ip:    # moved in 2026\n", `ip:\n${items.map((item) => `                - ${item}\n`).join("")}`);
        assert.equal(editPlatformYml(block(["10.0.0.11", "10.0.0.12"]), "co1", "192.0.2.12", undefined, what).content, block(["192.0.2.12"]));
    });

    it("reads the flat layout of early 2020", () => {
        const edit = editPlatformYml(flat, "co1", "192.0.2.12", undefined, what);
        assert.equal(edit.key, "vars.HOSTINGS_AND_CORES.exoscale.ch-ch.co1.ip");
        assert.equal(edit.hosting, "exoscale.ch-ch");
        assert.equal(edit.content, flat.replace("ip: 10.0.0.11", "ip: 192.0.2.12"));
    });

    it("takes the hosting named when several hold the core, and refuses to guess", () => {
        const twice = platform("10.0.0.11", "").replace(
            "          hosting2:\n            co2:",
            "          hosting2:\n            co1:\n              ip: 10.0.0.31\n            co2:",
        );
        assert.match(
            refusal(() => editPlatformYml(twice, "co1", "192.0.2.12", undefined, what)),
            /has co1 under several hostings \(hosting1, hosting2\): set hosting to the one that moves/,
        );
        const edit = editPlatformYml(twice, "co1", "192.0.2.12", "hosting2", what);
        assert.equal(edit.content, twice.replace("ip: 10.0.0.31", "ip: 192.0.2.12"));
        assert.equal(edit.previousIp, "10.0.0.31");
    });

    it("refuses what it cannot edit, naming the file and the key", () => {
        assert.match(
            refusal(() => editPlatformYml(platform("10.0.0.11"), "co9", "192.0.2.12", undefined, what)),
            /on reg-master has no hosting under vars\.MACHINES_AND_PLATFORM_SETTINGS\.settings\.HOSTINGS_AND_CORES\.value holding co9: is coreSubdomain right\?/,
        );
        assert.match(
            refusal(() => editPlatformYml(platform("10.0.0.11"), "co1", "192.0.2.12", "hosting2", what)),
            /^hosting: .* has no co1 under .*\.value\.hosting2; the hostings holding it: hosting1$/,
        );
        assert.match(
            refusal(() => editPlatformYml("vars:\n  DOMAIN: x\n", "co1", "192.0.2.12", undefined, what)),
            /has no HOSTINGS_AND_CORES map \(vars\.MACHINES_AND_PLATFORM_SETTINGS\.settings\.HOSTINGS_AND_CORES\.value, or vars\.HOSTINGS_AND_CORES\)/,
        );
        assert.match(
            refusal(() => editPlatformYml("vars: [\n", "co1", "192.0.2.12", undefined, what)),
            /platform\.yml on reg-master is not valid YAML: /,
        );
        assert.match(
            refusal(() => editPlatformYml(platform("{ v4: 10.0.0.11 }"), "co1", "192.0.2.12", undefined, what)),
            /has no address at .*hosting1\.co1\.ip \(expected a string or a list of strings\)/,
        );
    });
});
