// Benchmark profiles: how big the Pryv-shaped dataset is and how much a live core
// changes it between the warm round and the cutover. Chosen with BENCH_PROFILE;
// BENCH_FILES and BENCH_BYTES override the attachment count and the total size.

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export interface Churn {
    newAttachments: number;
    deletedAttachments: number;
    /** Database pages (4 KiB or 32 KiB) overwritten in place. */
    rewrittenPages: number;
    /** Bytes appended to the influxdb series files, spread over them. */
    appendedSeriesBytes: number;
}

export interface Profile {
    name: string;
    users: number;
    attachments: number;
    attachmentBytes: number;
    /** The large collection and index files; the small WiredTiger metadata comes on top. */
    databaseBytes: number;
    databaseFiles: number;
    seriesBytes: number;
    seriesFiles: number;
    hfsBytes: number;
    churn: Churn;
}

const PROFILES: Record<string, Profile> = {
    // A few seconds of generation, for developing the bench itself.
    smoke: {
        name: "smoke",
        users: 40,
        attachments: 3000,
        attachmentBytes: 12 * MiB,
        databaseBytes: 32 * MiB,
        databaseFiles: 4,
        seriesBytes: 6 * MiB,
        seriesFiles: 12,
        hfsBytes: 1 * MiB,
        churn: { newAttachments: 60, deletedAttachments: 15, rewrittenPages: 120, appendedSeriesBytes: 256 * 1024 },
    },
    // The figure the issue asks for: 100k attachments, about 1 GiB of database, within ~15 minutes on 2 cores.
    default: {
        name: "default",
        users: 500,
        attachments: 100_000,
        attachmentBytes: 320 * MiB,
        databaseBytes: 1 * GiB,
        databaseFiles: 6,
        seriesBytes: 64 * MiB,
        seriesFiles: 40,
        hfsBytes: 8 * MiB,
        churn: { newAttachments: 1000, deletedAttachments: 250, rewrittenPages: 2000, appendedSeriesBytes: 4 * MiB },
    },
    large: {
        name: "large",
        users: 2000,
        attachments: 400_000,
        attachmentBytes: 1536 * MiB,
        databaseBytes: 4 * GiB,
        databaseFiles: 8,
        seriesBytes: 512 * MiB,
        seriesFiles: 120,
        hfsBytes: 32 * MiB,
        churn: { newAttachments: 4000, deletedAttachments: 600, rewrittenPages: 8000, appendedSeriesBytes: 16 * MiB },
    },
};

function positiveInteger(name: string, value: string): number {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`${name} must be a positive integer, got ${value}`);
    return parsed;
}

/** The profile named by BENCH_PROFILE (default: "default"), with BENCH_FILES / BENCH_BYTES applied. */
export function selectProfile(env: NodeJS.ProcessEnv): Profile {
    const name = env.BENCH_PROFILE ?? "default";
    const base = PROFILES[name];
    if (base === undefined) throw new Error(`BENCH_PROFILE must be one of ${Object.keys(PROFILES).join(", ")}, got ${name}`);
    let profile = { ...base, churn: { ...base.churn } };
    if (env.BENCH_FILES !== undefined) {
        const files = positiveInteger("BENCH_FILES", env.BENCH_FILES);
        const factor = files / base.attachments;
        profile = {
            ...profile,
            attachments: files,
            churn: {
                ...profile.churn,
                newAttachments: Math.max(1, Math.round(base.churn.newAttachments * factor)),
                deletedAttachments: Math.max(1, Math.round(base.churn.deletedAttachments * factor)),
            },
        };
    }
    if (env.BENCH_BYTES !== undefined) {
        // Every part keeps its share of the total; so does the churn that depends on sizes.
        const factor = positiveInteger("BENCH_BYTES", env.BENCH_BYTES) / totalBytes(profile);
        const scale = (n: number): number => Math.max(1, Math.round(n * factor));
        profile = {
            ...profile,
            attachmentBytes: scale(profile.attachmentBytes),
            databaseBytes: scale(profile.databaseBytes),
            seriesBytes: scale(profile.seriesBytes),
            hfsBytes: scale(profile.hfsBytes),
            churn: { ...profile.churn, rewrittenPages: scale(profile.churn.rewrittenPages), appendedSeriesBytes: scale(profile.churn.appendedSeriesBytes) },
        };
    }
    return profile;
}

export const totalBytes = (p: Profile): number => p.attachmentBytes + p.databaseBytes + p.seriesBytes + p.hfsBytes;
