import { strict as assert } from "assert";
import { opensshCommandProvider } from "./opensshCommand";

// A loopback port nothing listens on: a test that reached ssh would fail, not pass.
const connection = { host: "127.0.0.1", port: 1, user: "root", hostKey: "ssh-ed25519 AAAAC3Nz" };
const olds = { connection, create: "make", delete: "undo", triggers: [1], stdout: "made\n", stderr: "" };
const diff = (news: Record<string, unknown>) =>
    opensshCommandProvider.diff!("id", olds, { connection, create: "make", delete: "undo", triggers: [1], ...news });

describe("OpensshCommand provider, as remote.Command behaves", () => {
    it("sees no change when nothing changed", async () => {
        assert.deepEqual(await diff({}), { changes: false, replaces: [], deleteBeforeReplace: false });
    });

    it("replaces (create first, then delete the old) when a trigger changes", async () => {
        assert.deepEqual(await diff({ triggers: [2] }), { changes: true, replaces: ["triggers"], deleteBeforeReplace: false });
    });

    it("updates in place when a script or the connection changes", async () => {
        for (const news of [{ create: "make better" }, { update: "patch" }, { delete: "undo better" }, { connection: { ...connection, port: 2 } }]) {
            assert.deepEqual(await diff(news), { changes: true, replaces: [], deleteBeforeReplace: false }, JSON.stringify(news));
        }
    });

    it("records a changed connection or delete script without running anything", async () => {
        const news = { connection: { ...connection, port: 2 }, create: "make", delete: "undo better", triggers: [1] };
        assert.deepEqual(await opensshCommandProvider.update!("id", olds, news), { outs: { ...news, stdout: "made\n", stderr: "" } });
    });

    it("runs nothing on delete when there is no delete script", async () => {
        await opensshCommandProvider.delete!("id", { ...olds, delete: undefined });
    });
});
