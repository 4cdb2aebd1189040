// The ${PRYV_CONF_ROOT} scripts of a test host (run-core, run-reg-master,
// stop-containers...): small wrappers that set the host's variables and call a
// function of fixture/services.sh, which runs processes in place of containers.
import * as fs from "fs";
import * as path from "path";

export interface FixtureScript {
    name: string;
    purpose: string;
    call: string;
}

export function writeFixtureScripts(host: string, dir: string, confRoot: string, env: Record<string, string>, scripts: FixtureScript[]): void {
    const variables = {
        MACHINE: host,
        HOST_DIR: dir,
        CONF_ROOT: confRoot,
        NODE_BIN: process.execPath,
        FIXTURE_DIR: `${dir}/fixture`,
        ...env,
    };
    for (const script of scripts) {
        const file = path.join(confRoot, script.name);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(
            file,
            `#!/usr/bin/env bash
# \${PRYV_CONF_ROOT}/${script.name} of test host ${host} (testbed fixture): ${script.purpose},
# with processes instead of containers; the logic is in ${dir}/fixture/services.sh.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
${Object.entries(variables)
    .map(([name, value]) => `export ${name}=${value}`)
    .join("\n")}
source "$FIXTURE_DIR/services.sh"
${script.call}
`,
        );
        fs.chmodSync(file, 0o755);
    }
}
