import * as pulumi from "@pulumi/pulumi";
import { Machine, ProxySettings } from "./config";
import { captureScript, parseCapture, replaceScript, restoreScript } from "../machinery/machineFile";
import { renderProxyFile, siteLayout } from "../machinery/nginxProxyFile";
import { declareStep, jsonLines, Transport } from "../machinery/remoteStep";
import { ServiceCheck, startServicesScript } from "../machinery/services";

export interface SourceProxyArgs {
    source: Machine;
    settings: ProxySettings;
    /** The health check, run on source: through its nginx, it now reaches dest. */
    check: ServiceCheck;
    destIp: string;
    domain: string;
    migrationId: string;
    transport: Transport;
    /** Whether the proxy is in place (phase proxy and later); before that only the original is read. */
    active: boolean;
    /** What must be done before source proxies: the cutover. */
    after: pulumi.Resource[];
}

/**
 * "Set NGINX proxying": source's site-443.conf is read from prepare on (so the preview
 * of the proxy phase shows the file it will write), then replaced by one whose every
 * upstream is dest:443 over https, checked with nginx -t before it goes live; nginx alone
 * is started on source. Undo: nginx stopped, the original back byte for byte.
 */
export class SourceProxy extends pulumi.ComponentResource {
    public readonly renderedFile: pulumi.Output<string>;
    public readonly replaced: pulumi.Output<string[]>;
    public readonly proxyFileSha256?: pulumi.Output<string>;

    constructor(name: string, args: SourceProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pryv:migration:SourceProxy", name, {}, opts);
        const { source, settings, check, transport } = args;
        const original = declareStep(`${name}-original`, { machine: source, create: captureScript(settings.siteFile) }, transport, {
            parent: this,
        }).stdout.apply(parseCapture);
        const layout = original.apply((file) => siteLayout(file.content, `${settings.siteFile} on source`));
        this.renderedFile = layout.apply((site) =>
            renderProxyFile(site, {
                migrationId: args.migrationId,
                domain: args.domain,
                destIp: args.destIp,
                verifyDestCertificate: settings.verifyDestCertificate,
                trustedCertificate: settings.trustedCertificate,
                originalFile: `${settings.siteFile}.pryv-migration-original`,
            }),
        );
        this.replaced = layout.apply((site) => site.replaced);

        if (args.active) {
            const nginxOnly: Machine = { ...source, startCommand: settings.startCommand };
            const site = declareStep(
                `${name}-site`,
                {
                    machine: source,
                    create: pulumi.all([original, this.renderedFile]).apply(([file, content]) =>
                        [
                            replaceScript({
                                path: settings.siteFile,
                                original: file,
                                content,
                                checkCommand: settings.testCommand,
                                restart: [source.stopCommand],
                            }),
                            startServicesScript(nginxOnly, check, { stopAfterwards: false }),
                        ].join("\n"),
                    ),
                    delete: restoreScript(settings.siteFile, [source.stopCommand], []),
                    triggers: [this.replaced],
                },
                transport,
                { parent: this, dependsOn: args.after },
            );
            this.proxyFileSha256 = site.stdout.apply((stdout) => jsonLines<{ sha256: string }>(stdout)[0].sha256);
        }
        this.registerOutputs({ renderedFile: this.renderedFile, replaced: this.replaced, proxyFileSha256: this.proxyFileSha256 });
    }
}
