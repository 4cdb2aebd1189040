import { strict as assert } from "assert";
import { SourceProxy } from "./sourceProxy";
import { captureScript, fileContentScript } from "../machinery/machineFile";
import { renderProxyFile, siteLayout } from "../machinery/nginxProxyFile";
import { sourceBackScript } from "../machinery/services";
import { shellQuote } from "../machinery/templates";
import {
    build,
    checkFor,
    childrenOf,
    Executor,
    executors,
    fakeMachines,
    hostOf,
    nameOf,
    originalSite,
    promiseOf,
    scriptsOf,
    sha256,
    StandIn,
    stepType,
    testConfig,
    transportFor,
} from "../testing";

const config = testConfig();
const siteFile = "/var/pryv/core/nginx/conf/site-443.conf";
const original = { sha256: sha256(originalSite), content: originalSite };
const expectedProxyFile = renderProxyFile(siteLayout(originalSite, `${siteFile} on source`), {
    migrationId: "unit",
    domain: "pryv.example.com",
    destIp: "192.0.2.12",
    verifyDestCertificate: true,
    trustedCertificate: "/etc/ssl/certs/ca-certificates.crt",
    originalFile: `${siteFile}.pryv-migration-original`,
});

const make = (executor: Executor, active: boolean, settings = config.proxy) =>
    build((opts) => {
        const after = [new StandIn("warm-rounds", opts)];
        return new SourceProxy(
            "proxy",
            {
                source: config.source,
                settings,
                check: checkFor(config),
                destIp: config.destCoreIp,
                domain: config.domain,
                transport: transportFor(executor),
                active,
                after,
            },
            opts,
        );
    }, fakeMachines);

for (const executor of executors) {
    describe(`SourceProxy (${executor} executor)`, () => {
        it("before the cutover, reads source's site file and holds it as a resource whose stdin is the file as read", async () => {
            const { resources, component } = await make(executor, false);
            assert.equal(resources.get("proxy")!.type, "pryv:migration:SourceProxy");
            assert.deepEqual(
                childrenOf(resources, "proxy").map((step) => [step.name, step.type, hostOf(step), step.dependsOn, step.inputs.delete]),
                [
                    ["proxy-original", stepType[executor], "10.0.0.11", [], undefined],
                    ["proxy-site-file", stepType[executor], "10.0.0.11", [], undefined],
                ],
            );
            assert.equal(scriptsOf(resources, "proxy-original").create, captureScript([siteFile], "proxy.siteFile"));
            assert.equal(resources.get("proxy-original")!.inputs.stdin, undefined);
            const file = resources.get("proxy-site-file")!;
            assert.equal(file.inputs.stdin, originalSite);
            assert.equal(scriptsOf(resources, "proxy-site-file").create, fileContentScript({ path: siteFile, original, checkCommand: ["nginx", "-t"] }));
            assert.deepEqual(component.switched.map(nameOf), ["proxy-site-file"]);
            assert.equal(await promiseOf(component.siteFileSha256), sha256(originalSite));
        });

        it("renders the proxy file from the file as read, and says what it does differently", async () => {
            const { component } = await make(executor, false);
            assert.equal(await promiseOf(component.renderedFile), expectedProxyFile);
            assert.deepEqual(await promiseOf(component.replaced), siteLayout(originalSite, "x").replaced);
        });

        it("from the cutover on, records source's undo first, then gives the site file the proxy file as stdin", async () => {
            const { resources, component } = await make(executor, true);
            assert.deepEqual(
                childrenOf(resources, "proxy").map((step) => [step.name, step.type, hostOf(step), step.dependsOn]),
                [
                    ["proxy-original", stepType[executor], "10.0.0.11", []],
                    ["proxy-source-back", stepType[executor], "10.0.0.11", ["warm-rounds"]],
                    ["proxy-site-file", stepType[executor], "10.0.0.11", ["proxy-source-back"]],
                ],
            );
            const sourceBack = scriptsOf(resources, "proxy-source-back");
            assert.equal(
                sourceBack.create,
                "# Does nothing now: recorded before the cutover acts on source, so that its undo runs whatever a crash interrupts.\n" +
                    `echo ${shellQuote("on rollback: source's original nginx file back, source restarted and healthy")}\n`,
            );
            assert.equal(sourceBack.delete, sourceBackScript(config.source, siteFile, checkFor(config), "unit"));
            const file = resources.get("proxy-site-file")!;
            assert.equal(file.inputs.stdin, expectedProxyFile);
            assert.match(
                String(file.inputs.stdin),
                /error_page 502 504 = @dest_not_serving_yet;\n {2}location @dest_not_serving_yet \{\n {4}add_header Retry-After 5 always;\n {4}return 503;/,
            );
            assert.equal(file.inputs.delete, undefined, "its undo is source-back's");
            assert.deepEqual(component.switched.map(nameOf), ["proxy-source-back", "proxy-site-file"]);
            assert.equal(await promiseOf(component.siteFileSha256), sha256(expectedProxyFile));
        });

        it("keeps the site file's script from one phase to the next: only stdin changes, so the step runs again with the new content", async () => {
            const before = await make(executor, false);
            const after = await make(executor, true);
            const script = scriptsOf(after.resources, "proxy-site-file").create;
            assert.equal(scriptsOf(before.resources, "proxy-site-file").create, script);
            assert.match(script, /^ {2}if ! check_output=\$\('nginx' '-t' 2>&1\); then$/m);
            assert.match(script, new RegExp(`^if \\[ "\\$\\(sha256sum < "\\$baseline" \\| cut -d' ' -f1\\)" != '${sha256(originalSite)}' \\]; then$`, "m"));
        });

        it("with a config follower on source (Pryv v1): source's undo, then the follower's, its stop, and only then the proxy file (on rollback the follower runs before source's services restart)", async () => {
            const follower = { stopCommand: ["/var/pryv/stop-follower", "now"], startCommand: ["/var/pryv/run-config-follower"] };
            const { resources, component } = await make(executor, true, { ...config.proxy, configFollower: follower });
            assert.deepEqual(
                childrenOf(resources, "proxy").map((step) => [step.name, step.type, hostOf(step), step.dependsOn]),
                [
                    ["proxy-original", stepType[executor], "10.0.0.11", []],
                    ["proxy-source-back", stepType[executor], "10.0.0.11", ["warm-rounds"]],
                    ["proxy-config-follower-back", stepType[executor], "10.0.0.11", ["proxy-source-back"]],
                    ["proxy-config-follower-stopped", stepType[executor], "10.0.0.11", ["proxy-config-follower-back"]],
                    ["proxy-site-file", stepType[executor], "10.0.0.11", ["proxy-config-follower-stopped"]],
                ],
            );
            const back = scriptsOf(resources, "proxy-config-follower-back");
            assert.equal(
                back.create,
                "# Does nothing now: recorded before source's config follower is stopped, so that its undo runs whatever a crash interrupts.\n" +
                    `echo ${shellQuote("on rollback, before source's services restart: source's config follower started again")}\n`,
            );
            assert.equal(
                back.delete,
                "# Starts source's config follower again, before source's own undo puts its original nginx file back and restarts its services: that file's upstream of the follower must resolve for nginx to start. At its start the follower writes conf/ from the config leader, the original site-443.conf among them, as before the migration. Starting a follower that runs changes nothing.\n" +
                    "# services: starts the config follower\n'/var/pryv/run-config-follower'\necho \"source's config follower started\"\n",
            );
            const stopped = scriptsOf(resources, "proxy-config-follower-stopped");
            assert.match(stopped.create, /^# Stops source's config follower before the proxy file is written\./);
            assert.match(
                stopped.create,
                /\n# services: stops the config follower\n'\/var\/pryv\/stop-follower' 'now'\necho "source's config follower stopped"\n$/,
            );
            assert.equal(resources.get("proxy-config-follower-stopped")!.inputs.delete, undefined, "its undo is config-follower-back's");
            assert.deepEqual(component.switched.map(nameOf), ["proxy-source-back", "proxy-config-follower-stopped", "proxy-site-file"]);
        });

        it("before the cutover, leaves a config follower running", async () => {
            const follower = { stopCommand: ["/var/pryv/stop-follower"], startCommand: ["/var/pryv/run-config-follower"] };
            const { resources } = await make(executor, false, { ...config.proxy, configFollower: follower });
            assert.deepEqual(
                childrenOf(resources, "proxy").map((step) => step.name),
                ["proxy-original", "proxy-site-file"],
            );
        });
    });
}
