import { strict as assert } from "assert";
import { pullScript } from "../machinery/folderSync";
import { wrapForBash } from "../machinery/remoteStep";
import { sourceBackScript, startServicesScript, stopServicesScript, stopSourceScript } from "../machinery/services";
import { checkFor, machines, pullFromSource } from "../testing";
import { renderAtAGlance } from "./atAGlance";
import { ReviewInput } from "./input";
import { Step } from "./steps";

// The steps' scripts are this program's own, as its components render them: their `# services:` lines are what is read.
const { source, dest } = machines();
const check = checkFor();
const nginxAlone = { startCommand: ["/srv/pryv/run-nginx"], runningCommand: ["/srv/pryv/running"], service: "nginx" };
const onSource = "source (source.example.com:22)";
const onDest = "dest (dest.example.com:2222)";

const created = (name: string, machine: string, script: string): Step => ({
    op: "create",
    name,
    machine,
    after: { create: wrapForBash(script, machine === onSource ? source : dest) },
    replaceReasons: [],
    retained: false,
});
const deleted = (name: string, machine: string, undo: string, retained = false): Step => ({
    op: "delete",
    name,
    machine,
    before: { delete: wrapForBash(undo, machine === onSource ? source : dest) },
    replaceReasons: [],
    retained,
});

function glance(from: string | undefined, to: string, steps: Step[], extra: { destLost?: string; estimate?: unknown } = {}): string[] {
    const config = {
        "pryv-core-migration:phase": { value: to, secret: false },
        ...(extra.destLost !== undefined && { "pryv-core-migration:destLost": { value: extra.destLost, secret: false } }),
    };
    const outputs = from === undefined ? undefined : { phase: from, cutoverEstimate: extra.estimate };
    const input: ReviewInput = { stack: "unit", preview: { steps: [] }, config, outputs };
    return renderAtAGlance(input, steps);
}

describe("the review's opening box", () => {
    it("prepare, the stack's first update: nothing felt, dest's core started and stopped by its check", () => {
        const steps = [
            created(
                "pryv-dest-check-services",
                onDest,
                startServicesScript(dest, check, { stopAfterwards: true, ownFiles: { dataFolders: ["core/core/data"], migrationId: "unit" } }),
            ),
        ];
        assert.deepEqual(glance(undefined, "prepare", steps), [
            "- Phase: `prepare`, the stack's first update",
            "- Users: nothing: source serves throughout",
            "- Given up for good: nothing: every step this update runs has its undo in the stack",
            "- Machines touched:",
            `  - ${onDest}: starts the core, then stops it again`,
        ]);
    });

    it("a warm round: dest's services stopped, source serving", () => {
        const steps = [created("pryv-warm-sync-core-core-data", onDest, pullScript(pullFromSource({ kind: "warm", round: 2 })))];
        assert.deepEqual(glance("warm-sync", "warm-sync", steps).slice(0, 2), [
            "- Phase: `warm-sync`, unchanged",
            "- Users: nothing: source serves throughout",
        ]);
        assert.deepEqual(glance("warm-sync", "warm-sync", steps).slice(-1), [`  - ${onDest}: stops every service here`]);
    });

    it("the cutover: the 503 window with the estimate, then each machine's stops and starts in order", () => {
        const steps = [
            created(
                "pryv-cutover-stop-source",
                onSource,
                stopSourceScript(source, nginxAlone, "unit", { round: 1, dataFolders: ["core/core/data"], maxPaths: 10 }),
            ),
            created("pryv-cutover-core-core-data", onDest, pullScript(pullFromSource({ kind: "cold" }))),
            created("pryv-cutover-start-dest", onDest, startServicesScript(dest, check, { stopAfterwards: false })),
        ];
        assert.deepEqual(glance("warm-sync", "cutover", steps, { estimate: { seconds: 12.5, basis: "…" } }), [
            "- Phase: `warm-sync` -> `cutover`, forward",
            "- Users: a 503 window (with Retry-After) from source's stop until dest serves, about 12.5 s by the last warm round's estimate (its basis below; the cutover makes its own before source stops); then source's nginx proxies to dest",
            "- Given up for good: nothing: every step this update runs has its undo in the stack",
            "- Machines touched:",
            `  - ${onSource}: stops every service, then starts nginx alone`,
            `  - ${onDest}: stops every service here; starts the core`,
        ]);
        // Straight from prepare, before any warm round: no estimate to give.
        assert.match(glance("prepare", "cutover", steps)[1], /from source's stop until dest serves, its length is estimated once a warm round has run;/);
    });

    it("dns and finalize: the DNS flip, then what finalize deletes for good", () => {
        assert.deepEqual(glance("cutover", "dns", []), [
            "- Phase: `cutover` -> `dns`, forward",
            "- Users: the registers answer dest's address: clients move over as their DNS caches expire, and source's proxy serves the others from dest meanwhile",
            "- Given up for good: nothing: every step this update runs has its undo in the stack",
            "- Machines touched: none",
        ]);
        assert.deepEqual(glance("dns", "finalize", []).slice(1, 3), [
            "- Users: nothing: dest serves throughout",
            "- Given up for good: the migration keys and what rollbacks kept aside are deleted, and every step that would undo the migration is protected",
        ]);
    });

    it("a rollback past the cutover: the carry-back's 503 window, and what each undo stops or restarts", () => {
        const steps = [
            deleted("pryv-cutover-dest-back", onDest, stopServicesScript(dest)),
            deleted("pryv-source-proxy-source-back", onSource, sourceBackScript(source, "/srv/pryv/core/nginx/conf/site-443.conf", check, "unit")),
        ];
        assert.deepEqual(glance("cutover", "warm-sync", steps), [
            "- Phase: `cutover` -> `warm-sync`, a rollback",
            "- Users: a 503 window while dest stops, its data is carried back to source and source restarts; what users wrote on dest comes back with it",
            "- Given up for good: nothing: every step this update runs has its undo in the stack",
            "- Machines touched:",
            `  - ${onDest}: stops every service`,
            `  - ${onSource}: restarts every service, if the cutover had stopped them`,
        ]);
    });

    it("a rollback with dest declared lost: its steps leave the stack without running their undo, and what users wrote there stays there", () => {
        const steps = [
            deleted("pryv-cutover-dest-back", onDest, stopServicesScript(dest), true),
            deleted("pryv-source-proxy-source-back", onSource, sourceBackScript(source, "/srv/pryv/core/nginx/conf/site-443.conf", check, "unit")),
        ];
        assert.deepEqual(glance("dns", "warm-sync", steps, { destLost: "true" }), [
            "- Phase: `dns` -> `warm-sync`, a rollback",
            "- Users: a 503 window until source serves again; what users wrote on dest since the cutover stays there (dest is declared lost)",
            "- Users: the registers answer source's address again: clients move back as their caches expire",
            "- Given up for good: 1 step leaves the stack without running its undo (dest is declared lost)",
            "- Machines touched:",
            `  - ${onDest}: no service stops or starts`,
            `  - ${onSource}: restarts every service, if the cutover had stopped them`,
        ]);
    });
});
