// What the fake machines print: plausible stdout for each kind of step, as the
// templates print it on a real machine, with clocks whose every span differs.
import { defaultDataFolders, folderKey } from "../config";
import { FolderChanges } from "../components/cutoverReports";
import { capturedStdout, originalDnsJson, originalPlatformYml, originalSite, sha256 } from "./fixtures";
import { FakeOutput } from "./recorder";

const folderOf = (key: string): string => defaultDataFolders.find((folder) => folderKey(folder) === key) ?? key;
const folderIndex = (key: string): number => defaultDataFolders.findIndex((folder) => folderKey(folder) === key);
const line = (value: object): string => `${JSON.stringify(value)}\n`;

/** The fake machines' clocks during a cutover: every span differs, so a test sees which one an output reads. */
export const cutoverClock = {
    stoppedAt: 100,
    proxyStartedAt: 100.5,
    /** Folder i's final round runs from 101 to 102 + i. */
    coldStartedAt: 101,
    coldFinishedAt: (index: number): number => 102 + index,
    /** Folder i is verified at 106 + i / 4. */
    verifiedAt: (index: number): number => 106 + index / 4,
    destStartedAt: 108,
    destHealthyAt: 112.5,
    servingAt: 113,
};

/** Warm rounds: folder i's runs from 1 to 2 + i / 2, writing 2 files and receiving 10 bytes; dest started in 2.5s in prepare. */
export const warmClock = { startedAt: 1, finishedAt: (index: number): number => 2 + index / 2, changedFiles: 2, bytesReceived: 10, destStartSeconds: 2.5 };

/** The paths source's change journal recorded under a folder since the last warm round began; null: the journal missed something there. */
export const journalPaths = (folder: string): string[] | null =>
    folder === "core/influxdb/data" ? null : [`collection-${folderIndex(folderKey(folder))}.wt`, "journal/WiredTigerLog 1"];

/** From when source's stop says a walking final round compares files by their blocks (source's clock). */
export const walkBlocksSince = 1_765_150_000;

/** What the cutover's `-stop-source` step prints for a folder, after its own line: its journal's paths (NUL-separated, in base64), or why it walks and from when. */
export const folderChangesOf = (folder: string): FolderChanges => {
    const paths = journalPaths(folder);
    return paths === null
        ? { folder, journal: false, reason: "20001 paths changed, more than 20000", since: walkBlocksSince }
        : { folder, journal: true, paths: paths.length, list: Buffer.from(paths.join("\0")).toString("base64") };
};

const syncStats = (key: string, cold: boolean): string => {
    const index = folderIndex(key);
    return line({
        folder: folderOf(key),
        round: cold ? "cold" : "warm-1",
        walk: !cold || journalPaths(folderOf(key)) === null,
        bytesReceived: warmClock.bytesReceived,
        bytesTransferred: 20,
        totalSize: 30,
        files: 4,
        changedFiles: warmClock.changedFiles,
        startedAt: cold ? cutoverClock.coldStartedAt : warmClock.startedAt,
        finishedAt: cold ? cutoverClock.coldFinishedAt(index) : warmClock.finishedAt(index),
        delete: true,
    });
};

/** The digest source's description gives a folder, and dest's verification finds. */
export const metadataDigestOf = (folder: string): string => sha256(`metadata of ${folder}`);

/** Plausible stdout for each kind of step, as the templates print it on a real machine. */
export const fakeMachines: FakeOutput = (name, inputs) => {
    const folderStep = (kind: string) => new RegExp(`-${kind}-(core-[a-z]+-data)$`).exec(name)?.[1];
    if (name.endsWith("-keypair")) {
        return { stdout: defaultDataFolders.map((folder) => `${folder.replace(/\//g, "_")} ssh-ed25519 AAAA${folder.replace(/\//g, "")}\n`).join("") };
    }
    if (name.endsWith("proxy-original")) return { stdout: capturedStdout(originalSite, "/var/pryv/core/nginx/conf/site-443.conf") };
    // Pryv v1's config leader: its platform.yml where Pryv's template has it.
    if (/(^|-)register-platform-[a-z-]+-original$/.test(name))
        return { stdout: capturedStdout(originalPlatformYml, "/var/pryv/config-leader/conf/platform.yml") };
    // Each register's dns.json where the written procedure has it.
    const register = /-(reg-[a-z]+)-original$/.exec(name)?.[1];
    if (register !== undefined) return { stdout: capturedStdout(originalDnsJson, `/var/pryv/${register}/dns/dns.json`) };
    // A file step prints the digest of what it was given.
    if (name.endsWith("-site-file") || name.endsWith("-dns-json") || name.endsWith("-platform-yml"))
        return { stdout: line({ sha256: sha256(String(inputs.stdin)) }) };
    if (name.endsWith("-restart")) return { stdout: line({ restartedAt: 300 }) };
    if (name.endsWith("-answers")) return { stdout: line({ name: "co1.pryv.example.com", answer: "192.0.2.12" }) };
    if (name.endsWith("-names-source")) return { stdout: line({ name: "co1.pryv.example.com", answer: "10.0.0.11" }) };
    if (name.endsWith("-source-serves")) return { stdout: line({ sourceServing: true }) };
    // Folder i holds (i + 1) MiB on source, its largest file a quarter of it; the compose file runs two images.
    if (name.endsWith("-source-data"))
        return {
            stdout:
                defaultDataFolders.map((folder, index) => line({ folder, bytes: (index + 1) * 2 ** 20, largestFile: (index + 1) * 2 ** 18 })).join("") +
                line({ composeFile: true, images: "pryvio/core:1.3.51 pryvio/mongodb:3.6.12" }),
        };
    if (name.endsWith("-dest-is-fresh")) return { stdout: line({ destFiles: 3 }) };
    if (name.endsWith("-services")) return { stdout: line({ startedAt: 1, healthyAt: 1 + warmClock.destStartSeconds }) + line({ stoppedAt: 4 }) };
    if (name.endsWith("-stop-source"))
        return {
            stdout:
                line({ stoppedAt: cutoverClock.stoppedAt, proxyStartedAt: cutoverClock.proxyStartedAt }) +
                defaultDataFolders.map((folder) => line(folderChangesOf(folder))).join(""),
        };
    if (name.endsWith("-start-dest")) return { stdout: line({ startedAt: cutoverClock.destStartedAt, healthyAt: cutoverClock.destHealthyAt }) };
    if (name.endsWith("-proxy-serving")) return { stdout: line({ servingAt: cutoverClock.servingAt }) };
    if (name.endsWith("-change-journal")) return { stdout: line({ journal: true }) };
    if (name.endsWith("-changes-before-stop")) {
        // The journal so far: influxdb's recorder missed something; the others list a path and deleted one.
        return {
            stdout: defaultDataFolders
                .map((folder) =>
                    line(
                        folder === "core/influxdb/data"
                            ? { folder, journal: false }
                            : { folder, journal: true, deleted: 1, bytes: 4096, list: Buffer.from("collection-0.wt\0").toString("base64") },
                    ),
                )
                .join(""),
        };
    }
    // dest holds a quarter of each listed path's 4096 bytes.
    if (name.endsWith("-dest-room")) {
        return {
            stdout: defaultDataFolders
                .filter((folder) => folder !== "core/influxdb/data")
                .map((folder) => line({ folder, needed: 3072, available: 2 ** 40 }))
                .join(""),
        };
    }
    if (name.endsWith("-source-description")) {
        return { stdout: defaultDataFolders.map((folder) => line({ folder, entries: 3, bytes: 1024, metadataDigest: metadataDigestOf(folder) })).join("") };
    }
    const contentChecked = folderStep("verify-content");
    if (contentChecked !== undefined) return { stdout: line({ folder: folderOf(contentChecked), filesCompared: 4, startedAt: 114, finishedAt: 115 }) };
    const verified = folderStep("verify");
    if (verified !== undefined) {
        const folder = folderOf(verified);
        return {
            stdout: line({
                folder,
                metadataDigest: metadataDigestOf(folder),
                contentChecked: 2,
                fullWalk: false,
                verifiedAt: cutoverClock.verifiedAt(folderIndex(verified)),
            }),
        };
    }
    const finalSync = folderStep("final-sync");
    // A final round's second line: dest's copy as it described it, the same as source's.
    if (finalSync !== undefined)
        return {
            stdout:
                syncStats(finalSync, true) +
                line({
                    folder: folderOf(finalSync),
                    metadataDigest: metadataDigestOf(folderOf(finalSync)),
                    describedBy: "patch",
                    touched: 3,
                    contentChecked: 2,
                    describedAt: cutoverClock.coldFinishedAt(folderIndex(finalSync)),
                }),
        };
    if (folderStep("carry-back") !== undefined) return { stdout: "" };
    const warm = /-(core-[a-z]+-data)$/.exec(name)?.[1];
    if (warm !== undefined) return { stdout: syncStats(warm, false) };
    return { stdout: "" };
};
