// The pulls the folderSync tests run: dest pulling a folder from source, and source
// carrying a folder back from dest, in the unit config's machines (migration "unit").
import { peerAccess, Pull, RoundKind, SyncStats } from "../machinery/folderSync";
import { machines } from "./fixtures";

const { source, dest } = machines();
/** What a round prints: SyncStats, and whether it walked every file (a cold round given the journal's paths does not). */
export type PrintedStats = SyncStats & { walk: boolean };
export const pullFromSource = (round: RoundKind, overrides: Partial<Pull> = {}): Pull => ({
    receiver: dest,
    peerRole: "source",
    access: peerAccess(source, "pull", "unit"),
    folder: "core/mongodb/data",
    migrationId: "unit",
    sync: { compress: "none", maxDeletions: 1000 },
    round,
    ...overrides,
});
export const carryBack = (keepAside: string): Pull =>
    pullFromSource(
        { kind: "carry-back", keepAside },
        { receiver: source, peerRole: "dest", access: peerAccess(dest, "carry-back", "unit"), folder: "core/core/data" },
    );
export const rounds: [string, Pull][] = [
    ["warm", pullFromSource({ kind: "warm", round: 3 })],
    ["cold", pullFromSource({ kind: "cold" })],
    ["carry-back", carryBack("/var/pryv/pryv-migration-kept/unit")],
];
