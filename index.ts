import { CoreMigration } from "./components/coreMigration";
import { readMigrationConfig } from "./components/stackConfig";

// Config is read and validated here, once, before any resource is declared.
export = readMigrationConfig().then((config) => new CoreMigration("pryv", config).outputs);
