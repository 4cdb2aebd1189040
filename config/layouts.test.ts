import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { Layout, layoutNames, layouts, onMachine } from "./layouts";

const words = (command: string[]): string => `\`${command.join(" ")}\``;

/** The README's layout table, row by row, as the presets give it. */
const rows: [string, (layout: Layout) => string][] = [
    ["install", (layout) => layout.install],
    ["`source`/`dest` `.startCommand`", (layout) => words(layout.startCommand)],
    ["`source`/`dest` `.stopCommand`", (layout) => words(layout.stopCommand)],
    ["compose file (dest's images checked against it)", (layout) => `\`<confRoot>/${layout.composeFile}\``],
    ["`proxy.siteFile`", (layout) => `\`${layout.siteFile}\``],
    ["`proxy.service`", (layout) => `\`${layout.proxyService}\``],
    [
        "`proxy.configFollower`, `registers.N.configFollower`",
        (layout) =>
            layout.configFollower === undefined
                ? "none"
                : `stop ${words(layout.configFollower.stopCommand)}, start ${words(layout.configFollower.startCommand)}`,
    ],
    ["`dataFolders`", (layout) => layout.dataFolders.map((folder) => `\`${folder}\``).join(", ")],
    ["`registers.N` `.startCommand`", (layout) => words(layout.register.startCommand)],
    ["`registers.N` `.stopCommand`", (layout) => words(layout.register.stopCommand)],
    ["`registers.N.dnsJson`", (layout) => layout.register.dnsJson.map((file) => `\`${file}\``).join(" or ")],
    [
        "where the dns phase sets the core's address",
        (layout) =>
            layout.platformYml === undefined
                ? "each register's `dnsJson`"
                : `\`${layout.platformYml.file}\` on \`configLeader.register\` (\`${layout.platformYml.leader}\`)`,
    ],
];

/** The cells of the table under `heading` in the README, trimmed. */
function readmeTable(heading: string): string[][] {
    const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
    const section = readme.split(`\n${heading}\n`)[1]?.split("\n## ")[0] ?? "";
    return section
        .split("\n")
        .filter((line) => line.startsWith("|") && !/^\|[\s|-]+\|$/.test(line))
        .map((line) =>
            line
                .slice(1, -1)
                .split(/(?<!\\)\|/)
                .map((cell) => cell.trim()),
        );
}

describe("layouts", () => {
    it("the README's table shows every preset's values, side by side", () => {
        assert.deepEqual(readmeTable("## Layouts"), [
            ["", ...layoutNames.map((name) => `\`${name}\``)],
            ...rows.map(([label, value]) => [label, ...layoutNames.map((name) => value(layouts[name]))]),
        ]);
    });

    it("puts the machine's confRoot in a layout's words, every occurrence", () => {
        assert.deepEqual(onMachine(["env", "PRYV_CONF_ROOT=<confRoot>", "-f", "<confRoot>/pryv/<confRoot>.yml"], "/srv/pryv"), [
            "env",
            "PRYV_CONF_ROOT=/srv/pryv",
            "-f",
            "/srv/pryv/pryv//srv/pryv.yml",
        ]);
    });
});
