import { strict as assert } from "assert";
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { jsonLines } from "../machinery/remoteStep";
import { render } from "../machinery/templates";
import { fakeCommand, runBash, temporaryFolder } from "../testing";

/** A script as its step runs it, or as the user nobody (setpriv) where the login's rights are what is checked. */
function run(script: string, options: { asNobody?: boolean; env?: Record<string, string> }): SpawnSyncReturns<string> {
    if (!options.asNobody) return runBash(script, { env: options.env });
    const nobody = ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "bash", "--norc", "-euo", "pipefail", "-c", script];
    return spawnSync("setpriv", nobody, { encoding: "utf8", env: { ...process.env, ...options.env } });
}

/**
 * What dest must take, measured on source and checked on dest, run by bash on folders of
 * this test's making; as another user (nobody) through setpriv where the login's rights are
 * what is checked.
 */
describe("the source-data and dest-ready checks, run by bash", () => {
    let folder: string;
    let remove: () => void;
    let confRoot: string;
    let bin: string;
    let watches: string;
    beforeEach(() => {
        ({ folder, remove } = temporaryFolder("room-check"));
        fs.chmodSync(folder, 0o755);
        confRoot = path.join(folder, "var-pryv");
        bin = path.join(folder, "bin");
        watches = path.join(folder, "max_user_watches");
        for (const sub of ["core/mongodb/data/journal", "core/core/data/user1/attachments"]) fs.mkdirSync(path.join(confRoot, sub), { recursive: true });
        fs.mkdirSync(bin);
        fs.writeFileSync(path.join(confRoot, "core/mongodb/data/collection-1.wt"), Buffer.alloc(300_000, 1));
        fs.writeFileSync(path.join(confRoot, "core/core/data/user1/attachments/a1"), "attachment");
        fs.writeFileSync(
            path.join(confRoot, "core.yml"),
            "services:\n  core:\n    image: 'pryvio/core:1.3.51'\n  mongodb:\n    image: pryvio/mongodb:3.6.12\n",
        );
        fs.writeFileSync(watches, "8192\n");
        fakeCommand(bin, "inotifywait", "exit 0");
    });
    afterEach(() => remove());

    const folders = ["core/mongodb/data", "core/core/data", "core/hfs/data"];
    const sourceData = (options: { asNobody?: boolean } = {}) =>
        run(render("source-data.sh", { confRoot, composeFile: path.join(confRoot, "core.yml"), folders, watchesFile: watches }), {
            asNobody: options.asNobody,
            env: { PATH: `${bin}:${process.env.PATH ?? ""}` },
        });
    type Line = { folder?: string; bytes?: number; largestFile?: number; composeFile?: boolean; images?: string };
    const destReady = (sizes: Line[], images: string | false, options: { asNobody?: boolean; destRoot?: string } = {}) => {
        const script = render("dest-ready.sh", {
            confRoot: options.destRoot ?? confRoot,
            composeFile: images === false ? false : path.join(options.destRoot ?? confRoot, "core.yml"),
            images: images === false ? "" : images,
            sizes,
        });
        return options.asNobody
            ? spawnSync("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "bash", "--norc", "-euo", "pipefail", "-c", script], {
                  encoding: "utf8",
              })
            : runBash(script);
    };

    it("source: prints each folder's size on disk and largest file, and its compose file's images, sorted, quotes dropped", () => {
        const result = sourceData();
        assert.equal(result.status, 0, result.stderr);
        const lines = jsonLines<Line>(result.stdout);
        assert.deepEqual(
            lines.map((line) => [line.folder, line.largestFile]),
            [
                ["core/mongodb/data", 300_000],
                ["core/core/data", 10],
                ["core/hfs/data", 0],
                [undefined, undefined],
            ],
        );
        assert.ok(lines[0].bytes! >= 300_000, JSON.stringify(lines[0]));
        assert.deepEqual(lines[3], { composeFile: true, images: "pryvio/core:1.3.51 pryvio/mongodb:3.6.12" });
    });

    it("source: refuses when the kernel's inotify watches are too few for the data folders' directories, naming the sysctl", () => {
        fs.writeFileSync(watches, "1000\n");
        const result = sourceData();
        assert.equal(result.status, 1);
        assert.match(
            result.stderr,
            /^source: the change journal watches each of the 5 directories of the data folders, and fs\.inotify\.max_user_watches is 1000: raise it to 1005 or more \(sysctl -w fs\.inotify\.max_user_watches=1005, and a file in \/etc\/sysctl\.d to keep it\), or the final round walks every file inside the outage\n/,
        );
        fs.writeFileSync(watches, "1005\n");
        assert.equal(sourceData().status, 0);
    });

    it("source: refuses a login that cannot read every file (rsync would leave it out), naming the file", () => {
        fs.chmodSync(path.join(confRoot, "core/mongodb/data/collection-1.wt"), 0o600);
        const result = sourceData({ asNobody: true });
        assert.equal(result.status, 1);
        assert.match(
            result.stderr,
            /^source: core\/mongodb\/data: nobody cannot read \S+\/core\/mongodb\/data\/collection-1\.wt, which every round would leave out: log in as root \(source\.user\)\n/,
        );
    });

    it("dest: passes with room, root and source's images; refuses a full filesystem, naming the folders, the bytes needed and free", () => {
        const sizes = jsonLines<Line>(sourceData().stdout).filter((line) => line.folder !== undefined);
        const images = "pryvio/core:1.3.51 pryvio/mongodb:3.6.12";
        const fits = destReady(sizes, images);
        assert.deepEqual([fits.status, fits.stderr], [0, ""]);
        const [filesystem] = jsonLines<{ filesystem: string; needed: number; available: number }>(fits.stdout);
        // What dest already holds counts (here it holds source's own folders): the largest file is still needed beside its copy.
        assert.equal(filesystem.needed, 300_000);
        const huge = sizes.map((line) => ({ ...line, bytes: 2 ** 50 }));
        const full = destReady(huge, images);
        assert.equal(full.status, 1);
        assert.match(full.stderr, /^dest: core\/mongodb\/data, core\/core\/data, core\/hfs\/data need \d+ bytes on \S+, which has \d+ free\n/);
    });

    it("dest: refuses a login that cannot give files their owners, and a compose file whose images differ from source's, naming both", () => {
        const destRoot = path.join(folder, "dest-pryv");
        fs.mkdirSync(destRoot, { mode: 0o777 });
        fs.chmodSync(destRoot, 0o777);
        fs.writeFileSync(path.join(destRoot, "core.yml"), "services:\n  core:\n    image: pryvio/core:1.3.53\n  mongodb:\n    image: pryvio/mongodb:3.6.12\n");
        const result = destReady([{ folder: "core/core/data", bytes: 10, largestFile: 10 }], "pryvio/core:1.3.51 pryvio/mongodb:3.6.12", {
            asNobody: true,
            destRoot,
        });
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr,
            "dest: nobody cannot give a file another owner (chown 4242:4242 refused): rsync would write every file as nobody; log in as root (dest.user)\n" +
                `dest: ${destRoot}/core.yml runs pryvio/core:1.3.53 pryvio/mongodb:3.6.12; source's runs pryvio/core:1.3.51 pryvio/mongodb:3.6.12: install the same release on dest (raw database files need the same versions)\n` +
                "Nothing was written or stopped: fix the above, then run pulumi up again.\n",
        );
        assert.deepEqual(fs.readdirSync(destRoot), ["core.yml"], "the owner probe is left behind");
        // Without a compose file on source, none is compared.
        assert.equal(destReady([{ folder: "core/core/data", bytes: 10, largestFile: 10 }], false, { destRoot }).status, 0);
    });
});
