// Lines a step prints on standard error, shown live on the step in the engine's display, as
// remote.Command shows them (`logging`, as ephemeral status messages). Runs inside the
// dynamic provider's process.
import * as pulumi from "@pulumi/pulumi";

/** The engine's address as a provider process is given it: its first argument, `host:port`. */
export function engineAddress(argv: readonly string[]): string | undefined {
    const first = argv[2];
    return first !== undefined && /^[\w.-]+:\d+$/.test(first) ? first : undefined;
}

let connected = false;

/**
 * The dynamic provider's host leaves the SDK without the engine's address
 * (pulumi/pulumi#6065), so pulumi.log has nowhere to write: given here once, the SDK opens
 * the connection to the engine at the first line logged. False outside a provider process.
 */
function connectToEngine(): boolean {
    if (connected) return true;
    const address = engineAddress(process.argv);
    if (address === undefined) return false;
    pulumi.runtime.resetOptions(pulumi.getProject(), pulumi.getStack(), -1, address, "", false, "");
    connected = true;
    return true;
}

/** Shows `line` on the resource `urn` while it runs; lost, not failed, when there is no engine to show it. */
export function logOnResource(urn: string, line: string): void {
    if (!connectToEngine()) return;
    // pulumi.log reads nothing of a resource but its URN.
    const resource = { urn: pulumi.output(urn) } as unknown as pulumi.Resource;
    void pulumi.log.info(line, resource, undefined, true);
}
