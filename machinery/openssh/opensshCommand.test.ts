import { strict as assert } from "assert";
import { opensshCommandProvider } from "./opensshCommand";
import { installFakeSsh, SshCall } from "../../testing";

// A loopback port nothing listens on: were the fake ssh missing, a step that ran would fail, not pass.
const connection = { host: "127.0.0.1", port: 1, user: "root", hostKey: "ssh-ed25519 AAAAC3Nz" };
const inputs = { connection, create: "echo made; cat", delete: "echo undone", triggers: [1], stdin: "original\n" };
const olds = { ...inputs, stdout: "made\noriginal\n", stderr: "" };
const provider = {
    diff: opensshCommandProvider.diff!.bind(opensshCommandProvider),
    create: opensshCommandProvider.create.bind(opensshCommandProvider),
    update: opensshCommandProvider.update!.bind(opensshCommandProvider),
    delete: opensshCommandProvider.delete!.bind(opensshCommandProvider),
};
const commandOf = (call: SshCall): string => call.args[call.args.length - 1];

describe("OpensshCommand provider, as remote.Command behaves", () => {
    let ssh: ReturnType<typeof installFakeSsh>;
    beforeEach(() => (ssh = installFakeSsh()));
    afterEach(() => ssh.restore());

    describe("diff", () => {
        it("sees no change when nothing changed", async () => {
            assert.deepEqual(await provider.diff("id", olds, inputs), { changes: false, replaces: [], deleteBeforeReplace: false });
        });

        it("replaces (create first, then delete the old) when a trigger changes", async () => {
            assert.deepEqual(await provider.diff("id", olds, { ...inputs, triggers: [2] }), {
                changes: true,
                replaces: ["triggers"],
                deleteBeforeReplace: false,
            });
        });

        it("updates in place when a script, the connection or stdin changes", async () => {
            for (const news of [
                { create: "make better" },
                { update: "patch" },
                { delete: "undo better" },
                { connection: { ...connection, port: 2 } },
                { stdin: "new content\n" },
                { stdin: undefined },
            ]) {
                assert.deepEqual(
                    await provider.diff("id", olds, { ...inputs, ...news }),
                    { changes: true, replaces: [], deleteBeforeReplace: false },
                    JSON.stringify(news),
                );
            }
        });
    });

    describe("create", () => {
        it("runs the create script with stdin and records the inputs and what it printed", async () => {
            const { id, outs } = (await provider.create(inputs)) as { id: string; outs: unknown };
            assert.match(id, /^127\.0\.0\.1-[a-z0-9]+-[a-z0-9]+$/);
            assert.deepEqual(outs, { ...inputs, stdout: "made\noriginal\n", stderr: "" });
            assert.deepEqual(
                ssh.calls().map((call) => [commandOf(call), call.stdin]),
                [["echo made; cat", "original\n"]],
            );
        });

        it("fails with the machine and the command's exit code and error output", async () => {
            await assert.rejects(provider.create({ ...inputs, create: "echo partial; echo 'broken pipe' >&2; exit 3" }), {
                message: "command on root@127.0.0.1:1 failed with exit code 3:\nbroken pipe",
            });
        });

        it("names a machine ssh cannot reach as such (ssh exits 255)", async () => {
            await assert.rejects(provider.create({ ...inputs, create: "echo 'Connection refused' >&2; exit 255" }), {
                message: "cannot run the step on root@127.0.0.1:1 (machine unreachable or login refused):\nConnection refused",
            });
        });
    });

    describe("update", () => {
        it("runs the create script again with the new stdin when only stdin changes", async () => {
            const news = { ...inputs, stdin: "new content\n" };
            assert.deepEqual(await provider.update("id", olds, news), { outs: { ...news, stdout: "made\nnew content\n", stderr: "" } });
            assert.deepEqual(
                ssh.calls().map((call) => [commandOf(call), call.stdin]),
                [["echo made; cat", "new content\n"]],
            );
        });

        it("runs the update script, when there is one, with the new stdin", async () => {
            const news = { ...inputs, update: "echo patched; cat", stdin: "new content\n" };
            assert.deepEqual(await provider.update("id", olds, news), { outs: { ...news, stdout: "patched\nnew content\n", stderr: "" } });
            assert.deepEqual(
                ssh.calls().map((call) => [commandOf(call), call.stdin]),
                [["echo patched; cat", "new content\n"]],
            );
        });

        it("runs the new create script when it changes", async () => {
            const news = { ...inputs, create: "echo remade" };
            assert.deepEqual(await provider.update("id", olds, news), { outs: { ...news, stdout: "remade\n", stderr: "" } });
            assert.deepEqual(
                ssh.calls().map((call) => [commandOf(call), call.stdin]),
                [["echo remade", "original\n"]],
            );
        });

        it("records a changed delete script or connection without running anything, keeping what the step printed", async () => {
            for (const news of [
                { ...inputs, delete: "echo undone better" },
                { ...inputs, connection: { ...connection, port: 2 } },
                { ...inputs, connection: { ...connection, port: 2 }, delete: undefined },
            ]) {
                assert.deepEqual(await provider.update("id", olds, news), { outs: { ...news, stdout: "made\noriginal\n", stderr: "" } }, JSON.stringify(news));
            }
            assert.deepEqual(ssh.calls(), []);
        });
    });

    describe("delete", () => {
        it("runs the delete script, with nothing on stdin", async () => {
            await provider.delete("id", olds);
            assert.deepEqual(
                ssh.calls().map((call) => [commandOf(call), call.stdin]),
                [["echo undone", ""]],
            );
        });

        it("runs nothing when there is no delete script", async () => {
            await provider.delete("id", { ...olds, delete: undefined });
            assert.deepEqual(ssh.calls(), []);
        });
    });
});
