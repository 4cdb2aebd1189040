import * as pulumi from "@pulumi/pulumi";
import { Machine, ProxySettings } from "../config";
import { fileContentScript } from "../machinery/machineFile";
import { captureFile, manageFile } from "../machinery/managedFile";
import { renderProxyFile, siteLayout } from "../machinery/nginxProxyFile";
import { declareStep, StepDefinition, Transport, undoRecord } from "../machinery/remoteStep";
import { ServiceCheck, sourceBackScript } from "../machinery/services";
import { render } from "../machinery/templates";

export interface SourceProxyArgs {
    source: Machine;
    settings: ProxySettings;
    /** The health check, run on source: through its nginx, it reaches dest once proxied. */
    check: ServiceCheck;
    destIp: string;
    domain: string;
    transport: Transport;
    /** Whether source proxies to dest (phase cutover and later); before that its file is only read. */
    active: boolean;
    /** What must be done before source's file changes: the warm rounds. */
    after: pulumi.Resource[];
}

/**
 * "Set NGINX proxying", as the first act of the cutover: source's site-443.conf is a
 * resource from prepare on, whose content is the file as read there; from the cutover on
 * it is the file rendered from templates/, every upstream at dest:443 over https, checked
 * with nginx -t before it stays. So the cutover's preview shows the change as a line diff,
 * and a rollback's the reverse. The undo of the whole cutover on source (original file,
 * services restarted) is in the state before the file changes. A config follower that
 * would write the original file back (Pryv v1) is stopped after that undo is recorded and
 * before the file changes, its own undo recorded first, so that on rollback it runs
 * again before source's services restart.
 */
export class SourceProxy extends pulumi.ComponentResource {
    public readonly renderedFile: pulumi.Output<string>;
    public readonly replaced: pulumi.Output<string[]>;
    public readonly siteFileSha256: pulumi.Output<string>;
    /** The proxy file in place and source's undo recorded: what the cutover's stop of source waits for. */
    public readonly switched: pulumi.Resource[];

    constructor(name: string, args: SourceProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pryv:migration:SourceProxy", name, {}, opts);
        const { source, settings, check, transport } = args;
        const { migrationId } = transport;
        const step = (suffix: string, definition: StepDefinition, dependsOn: pulumi.Resource[]) =>
            declareStep(`${name}-${suffix}`, definition, transport, { parent: this, dependsOn });

        const what = `${settings.siteFile} on source`;
        const original = captureFile(step, { machine: source, candidates: [settings.siteFile], setting: "proxy.siteFile", what, secret: false });
        const layout = original.apply((file) => siteLayout(file.content, what));
        this.renderedFile = layout.apply((site) =>
            renderProxyFile(site, {
                migrationId,
                domain: args.domain,
                destIp: args.destIp,
                verifyDestCertificate: settings.verifyDestCertificate,
                trustedCertificate: settings.trustedCertificate,
                originalFile: `${settings.siteFile}.pryv-migration-original`,
            }),
        );
        this.replaced = layout.apply((site) => site.replaced);

        const follower = settings.configFollower;
        // After source's undo is recorded: on rollback the follower runs again before source's services restart on the
        // original file, whose upstream of the follower nginx must resolve to start.
        const stopFollower =
            follower === undefined
                ? undefined
                : (sourceBack: pulumi.Resource[]): pulumi.Resource[] => {
                      const back = step(
                          "config-follower-back",
                          undoRecord(source, {
                              why: "recorded before source's config follower is stopped, so that its undo runs whatever a crash interrupts.",
                              message: "on rollback, before source's services restart: source's config follower started again",
                              undo: render("config-follower-start.sh", { startCommand: follower.startCommand }),
                          }),
                          sourceBack,
                      );
                      const stop = render("config-follower-stop.sh", { stopCommand: follower.stopCommand });
                      return [step("config-follower-stopped", { machine: source, create: stop }, [back.resource]).resource];
                  };
        const { file: siteFile, switched } = manageFile(step, original, {
            machine: source,
            secret: false,
            active: args.active,
            names: { undo: "source-back", file: "site-file" },
            undo: {
                why: "recorded before the cutover acts on source, so that its undo runs whatever a crash interrupts.",
                message: "on rollback: source's original nginx file back, source restarted and healthy",
                script: sourceBackScript(source, settings.siteFile, check, migrationId),
            },
            content: this.renderedFile,
            script: original.apply((file) => fileContentScript({ path: settings.siteFile, original: file, checkCommand: settings.testCommand })),
            after: args.after,
            between: stopFollower,
        });
        this.siteFileSha256 = siteFile.stdout.apply((stdout) => (JSON.parse(stdout.trim()) as { sha256: string }).sha256);
        this.switched = switched;
        this.registerOutputs({ renderedFile: this.renderedFile, replaced: this.replaced, siteFileSha256: this.siteFileSha256 });
    }
}
