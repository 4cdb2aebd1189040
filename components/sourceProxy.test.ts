import { strict as assert } from "assert";
import { shellQuote } from "../machinery/templates";
import * as pulumi from "@pulumi/pulumi";
import { serviceCheck } from "../machinery/services";
import { SourceProxy } from "./sourceProxy";
import { assertInOrder, build, fakeMachines, promiseOf, scriptOf, testConfig, transportFor } from "../tests/unit/harness";

class Earlier extends pulumi.ComponentResource {
    constructor(opts: pulumi.ComponentResourceOptions) {
        super("test:unit:Earlier", "cutover", {}, opts);
        this.registerOutputs({});
    }
}

for (const executor of ["command", "openssh"] as const) {
    describe(`SourceProxy (${executor} executor)`, () => {
        const make = (active: boolean) =>
            build((opts) => {
                const config = testConfig();
                const after = [new Earlier(opts)];
                return new SourceProxy(
                    "proxy",
                    {
                        source: config.source,
                        settings: config.proxy,
                        check: serviceCheck(config.healthCheck, config.domain, config.coreSubdomain),
                        destIp: config.destCoreIp,
                        domain: config.domain,
                        migrationId: "unit",
                        transport: transportFor(executor),
                        active,
                        after,
                    },
                    opts,
                );
            }, fakeMachines);

        it("before the proxy phase, only reads source's site file", async () => {
            const { resources, component } = await make(false);
            assert.deepEqual(
                [...resources.values()].filter((r) => r.parent === "proxy").map((r) => r.name),
                ["proxy-original"],
            );
            assert.match(scriptOf(resources.get("proxy-original")!.inputs.create), /^file='\/var\/pryv\/core\/nginx\/conf\/site-443\.conf'$/m);
            assert.match(await promiseOf(component.renderedFile), /upstream core_server \{\n {2}server 192\.0\.2\.12:443;\n\}/);
        });

        it("writes the rendered file (visible in the script), checks it with nginx -t, starts nginx alone, waits for the health check", async () => {
            const { resources, component } = await make(true);
            const site = resources.get("proxy-site")!;
            assert.deepEqual(site.dependsOn, ["cutover"]);
            assert.equal((site.inputs.connection as { host: string }).host, "10.0.0.11");
            const script = scriptOf(site.inputs.create);
            const rendered = await promiseOf(component.renderedFile);
            assert.ok(script.includes(`printf '%s' ${shellQuote(rendered)} > "$candidate"`));
            assertInOrder(script, [
                'mv -f "$candidate" "$file"',
                "if ! check_output=$('nginx' '-t' 2>&1); then",
                "'/var/pryv/stop-containers'",
                "'/var/pryv/run-core' 'reverse_proxy'",
                "until output=$('curl'",
            ]);
            assert.deepEqual(site.inputs.triggers, [await promiseOf(component.replaced)]);
            const undo = scriptOf(site.inputs.delete);
            assertInOrder(undo, ["'/var/pryv/stop-containers'", 'mv -f "$original" "$file"']);
            assert.doesNotMatch(undo, /run-core/);
            assert.equal(await promiseOf(component.proxyFileSha256!), "5a5a");
        });
    });
}
