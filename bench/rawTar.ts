// The warm round's yardstick: the same folders as one `tar | ssh | tar` stream from
// source into a scratch folder on dest, over the same shaped link. No comparison, no
// checksums, no compression: what the link and ssh alone cost for a full copy. Holes
// stay holes (--sparse): InfluxDB preallocates its series files, and a copy that
// sent their zeros would measure the zeros.
import { TestHosts } from "../testbed";
import { shq } from "../testbed/shell";
import { defaultDataFolders } from "../config";
import { sh } from "./snapshot";
import { sshCommand, since } from "./ssh";

export async function rawTarCopy(hosts: TestHosts): Promise<number> {
    const { source, dest } = hosts.hosts;
    const scratch = `${dest.dir}/bench-raw-tar`;
    const receive = `rm -rf ${shq(scratch)} && mkdir -p ${shq(scratch)} && tar -C ${shq(scratch)} --numeric-owner -xpf -`;
    // Source is live: tar's exit status 1 ("file changed as we read it") is what a warm copy expects.
    const send = `{ tar -C ${shq(source.confRoot)} --numeric-owner --sparse --warning=no-file-changed -cf - ${defaultDataFolders.map(shq).join(" ")} || [ $? -eq 1 ]; }`;
    const started = Date.now();
    await sh(source, `set -o pipefail; ${send} | ${sshCommand(hosts, dest)} ${shq(receive)}`);
    const seconds = since(started);
    // Not timed: only the copy is the yardstick, and the scratch copy must not fill the disk.
    await sh(dest, `rm -rf ${shq(scratch)}`);
    return seconds;
}
