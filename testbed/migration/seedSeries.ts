// A series each user wrote before the migration, on the docker test hosts: in InfluxDB's
// TSM files by the time the copies run, so that `influx_inspect verify` has blocks to
// check on each side, and read back from whichever machine serves.
import { databasePoints, SeriesPoints, TestHost, TestHosts, waitForCore, waitForTsmFiles, writeEvents, writePoints } from "..";

/** The series event of a user's seed. */
export const seedEventId = (user: string): string => `${user}-seed`;

export const SEED_POINTS: SeriesPoints = { fields: ["timestamp", "value"], points: Array.from({ length: 100 }, (_, i) => [1500000000 + i, i * 0.5]) };

/** Each user's seed series written through source's address, and waited for in source's TSM files. */
export async function writeSeedSeries(hosts: TestHosts, source: TestHost, users: string[]): Promise<void> {
    await waitForCore(hosts, source);
    for (const user of users) {
        await writeEvents(hosts, source, user, [{ id: seedEventId(user), streamId: "diary", type: "series:mass/kg" }]);
        await writePoints(hosts, source, user, seedEventId(user), SEED_POINTS);
    }
    await waitForTsmFiles(
        source,
        users.map((user) => `user.${user}`),
    );
}

/** The users whose seed series the serving host's InfluxDB does not return whole, as sentences. */
export async function seedSeriesProblems(host: TestHost, users: string[]): Promise<string[]> {
    const problems: string[] = [];
    for (const user of users) {
        const points = await databasePoints(host, user, seedEventId(user));
        if (JSON.stringify(points) !== JSON.stringify(SEED_POINTS))
            problems.push(`${user}'s seed series on ${host.name}: ${points.points.length} points, expected ${SEED_POINTS.points.length} as written`);
    }
    return problems;
}
