import { strict as assert } from "assert";
import { folderKey, folderPath, keyFileName } from "./folderNames";

describe("folder names", () => {
    it("places a folder relative to confRoot in it, and one named by its absolute path where it is named", () => {
        assert.equal(folderPath("/var/pryv", "core/core/data"), "/var/pryv/core/core/data");
        assert.equal(folderPath("/var/pryv", "/var/log/pryv/audit"), "/var/log/pryv/audit");
    });

    it("names folders in resources and key files as before; an absolute one without its leading '/'", () => {
        assert.deepEqual(
            ["core/core/data", "/var/log/pryv/audit"].map((folder) => [folderKey(folder), keyFileName(folder)]),
            [
                ["core-core-data", "core_core_data"],
                ["var-log-pryv-audit", "var_log_pryv_audit"],
            ],
        );
    });
});
