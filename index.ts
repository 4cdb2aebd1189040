import { CoreMigration } from "./components/coreMigration";
import { readStackConfig } from "./components/stackConfig";

// Config is read and validated here, once, before any resource is declared.
const migration = new CoreMigration("pryv", readStackConfig());

export = migration.outputs;
