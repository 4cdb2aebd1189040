// The benchmark's writes to a core's real databases, past nginx and the core, in one-off
// containers on the host's backend network (testbed/docker inBackend): events in MongoDB
// (FerretDB on SQLite) as the core stores them, series points in InfluxDB as hfs does
// (one database per user, one measurement per event). Content is random, so that no
// compression makes a copy look cheaper than it is. Event n is "ev<n>" (also its _id)
// of user n mod users, in the collection events.<user>: FerretDB finds a document to
// rewrite or delete by reading its collection's table, which took seconds per event in
// one collection of 260,000 and takes milliseconds in one user's.
import { inBackend, TestHost } from "../testbed";
import { EVENT_CONTENT_BYTES } from "./profile";

/** Dataset points are one a second from here; the churn's come after them. */
export const FIRST_POINT_MS = 1_546_300_800_000;
/** What one batch holds: a few MB per request to the database. */
const EVENTS_PER_BATCH = 500;
const POINTS_PER_BATCH = 20_000;

/** Minutes, not the one minute of a read: 1 GiB of events takes about 40 s here. */
const LOAD_TIMEOUT_MS = 30 * 60_000;

function run(host: TestHost, body: string, values: Record<string, unknown>): Promise<string> {
    const script = `"use strict";
const { MongoClient } = require("mongodb");
const crypto = require("crypto");
const values = ${JSON.stringify(values)};
const content = () => crypto.randomBytes(${EVENT_CONTENT_BYTES}).toString("base64");
const userOf = (n) => values.users[n % values.users.length];
const eventOf = (n) => ({ _id: "ev" + n, id: "ev" + n, user: userOf(n), streamId: "diary", type: "note/txt", content: content(), created: 1546300800 + n / 1000 });
/** The numbers by the user they belong to. */
const byUser = (numbers) => {
    const groups = new Map();
    for (const n of numbers) {
        if (!groups.has(userOf(n))) groups.set(userOf(n), []);
        groups.get(userOf(n)).push(n);
    }
    return groups;
};
(async () => {
    const client = new MongoClient("mongodb://mongodb:27017/pryv-node", { serverSelectionTimeoutMS: 20000 });
    const events = (user) => client.db().collection("events." + user);
    try {
${body}
    } finally {
        await client.close();
    }
})().catch((e) => { console.error(e && e.stack || String(e)); process.exit(1); });`;
    return inBackend(host, script, LOAD_TIMEOUT_MS);
}

/** Events first..first+count-1, user by user, in batches. */
export async function insertEvents(host: TestHost, users: string[], first: number, count: number): Promise<void> {
    await run(
        host,
        `const all = values.users.length;
        for (const [u, user] of values.users.entries()) {
            let batch = [];
            for (let n = values.first + ((u - (values.first % all)) % all + all) % all; n < values.first + values.count; n += all) {
                batch.push(eventOf(n));
                if (batch.length === ${EVENTS_PER_BATCH}) {
                    await events(user).insertMany(batch, { ordered: false });
                    batch = [];
                }
            }
            if (batch.length > 0) await events(user).insertMany(batch, { ordered: false });
        }`,
        { users, first, count },
    );
}

/** The events' content replaced by new content of the same size: their pages rewritten in place. */
export async function rewriteEvents(host: TestHost, users: string[], numbers: number[]): Promise<void> {
    await run(
        host,
        `for (const [user, mine] of byUser(values.numbers)) {
            const ops = mine.map((n) => ({ updateOne: { filter: { _id: "ev" + n }, update: { $set: { content: content() } } } }));
            const r = await events(user).bulkWrite(ops, { ordered: false });
            if (r.matchedCount !== ops.length) throw new Error("rewrote " + r.matchedCount + " of " + ops.length + " events of " + user);
        }`,
        { users, numbers },
    );
}

export async function deleteEvents(host: TestHost, users: string[], numbers: number[]): Promise<void> {
    await run(
        host,
        `for (const [user, mine] of byUser(values.numbers)) {
            const r = await events(user).deleteMany({ _id: { $in: mine.map((n) => "ev" + n) } });
            if (r.deletedCount !== mine.length) throw new Error("deleted " + r.deletedCount + " of " + mine.length + " events of " + user);
        }`,
        { users, numbers },
    );
}

/**
 * `count` points spread over the users' series (event <user>-series), one a second from FIRST_POINT_MS +
 * `offset` seconds on, each user's database created first, as hfs does.
 */
export async function writeSeries(host: TestHost, users: string[], offset: number, count: number): Promise<void> {
    await run(
        host,
        // InfluxDB 1.6 now and then answers a write right after its CREATE DATABASE with 404
        // "database not found" (its meta store catches up a moment later): asked again, a few times.
        `const influx = async (query, body) => {
            for (let attempt = 1; ; attempt++) {
                const r = await fetch("http://influxdb:8086" + query, { method: "POST", body, headers: { "Content-Type": "text/plain" } });
                if (r.ok) return;
                const text = await r.text();
                if (r.status !== 404 || !text.includes("database not found") || attempt === 20) throw new Error("influxdb " + query.split("?")[0] + ": " + r.status + " " + text);
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
        };
        const perUser = Math.ceil(values.count / values.users.length);
        for (const [u, user] of values.users.entries()) {
            const points = Math.min(perUser, values.count - u * perUser);
            if (points <= 0) break;
            await influx("/query?q=" + encodeURIComponent('CREATE DATABASE "user.' + user + '"'));
            for (let p = 0; p < points; p += ${POINTS_PER_BATCH}) {
                const lines = [];
                for (let k = p; k < Math.min(p + ${POINTS_PER_BATCH}, points); k++)
                    lines.push("event." + user + "-series value=" + Math.random() + " " + (${FIRST_POINT_MS} + (values.offset + k) * 1000));
                await influx("/write?db=" + encodeURIComponent("user." + user) + "&precision=ms", lines.join("\\n"));
            }
        }`,
        { users, offset, count },
    );
}
