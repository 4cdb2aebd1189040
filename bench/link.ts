// The link between the test hosts, shaped to a rate with tc tbf (netem is not in this
// kernel). Each host's own veth is shaped on egress, so source -> dest (syncs, streams)
// and dest -> source (proxied answers, carry-backs) both cross a link of that rate.
import { TestHost, TestHosts } from "../testbed";
import { shq } from "../testbed/shell";

/** The host's end of its veth, found by the naming of testbed/network.ts. */
async function hostInterface(host: TestHost): Promise<string> {
    const r = await host.exec("ip -o link show | awk -F': ' '/pryvmig-e/ {print $2}' | cut -d@ -f1");
    const name = r.stdout.trim();
    if (r.code !== 0 || !/^pryvmig-e\d+$/.test(name)) throw new Error(`${host.name}: no test-host interface found (${r.stderr.trim() || name})`);
    return name;
}

/** "1gbit", "400mbit", "50mbit"... in bits per second. */
export function rateBits(rate: string): number {
    const match = /^(\d+(?:\.\d+)?)(k|m|g)?bit$/i.exec(rate);
    if (!match) throw new Error(`BENCH_RATE must look like 1gbit, 400mbit or 800kbit, got ${rate}`);
    const unit = { k: 1e3, m: 1e6, g: 1e9 }[(match[2] ?? "").toLowerCase() as "k" | "m" | "g"] ?? 1;
    return Number(match[1]) * unit;
}

/**
 * The bucket holds 10 ms at the rate, and never less than 128 KiB: veths pass
 * segmentation-offloaded packets of up to 64 KiB, and a bucket smaller than a packet
 * drops it.
 */
export async function shapeLink(hosts: TestHosts, rate: string): Promise<void> {
    const burst = Math.max(128 * 1024, Math.round(rateBits(rate) / 8 / 100));
    for (const host of [hosts.hosts.source, hosts.hosts.dest]) {
        const dev = await hostInterface(host);
        const r = await host.exec(`tc qdisc replace dev ${shq(dev)} root tbf rate ${shq(rate)} burst ${burst} latency 50ms`);
        if (r.code !== 0) throw new Error(`tc on ${host.name} failed: ${r.stderr.trim()}`);
    }
}

/** Best effort: the namespaces' teardown removes the veths (and their qdiscs) anyway. */
export async function unshapeLink(hosts: TestHosts): Promise<void> {
    for (const host of [hosts.hosts.source, hosts.hosts.dest]) {
        const dev = await hostInterface(host).catch(() => undefined);
        if (dev !== undefined) await host.exec(`tc qdisc del dev ${shq(dev)} root 2>/dev/null || true`);
    }
}
