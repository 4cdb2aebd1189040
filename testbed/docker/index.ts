// Docker test hosts (startTestHosts({ engine: "docker" })): what tests use of them.
//
// Each host runs its own dockerd (daemon.ts) in its network namespace; sshd's sessions
// and host.exec() have DOCKER_HOST pointing at it, so Pryv's scripts in the host's
// confRoot (run-core, stop-containers, ensure-permissions-core, run-reg-*) and any
// `docker` / `docker-compose` the program runs reach that host's engine. Cores run
// core.yml (compose.ts): reverse_proxy (nginx, 80/443 on every address of the host,
// the run's certificate as its system CA bundle), core, hfs, preview, core_audit
// (fixture/pryv-container.js with the machine's node mounted in), mongodb (FerretDB on
// SQLite, files in core/mongodb/data), influxdb (InfluxDB 1.6.7, core/influxdb/data);
// registers run <register>.yml with the DNS container.
// One image (build-image.sh, cached under ~/.cache/pryv-core-migration/images/) is
// tagged pryvmig/<service>:<key> for every service.
//
// Adding a service: its packages to build-image.sh's list (the key changes, the image
// is rebuilt once), its service in coreYml() (links as in Pryv's template), its name in
// CORE_SERVICES, and its folders, if it keeps data, in docker/layout.ts.
export { CORE_SERVICES } from "./compose";
export type { CoreService } from "./compose";
export { docker, DOCKER, DOCKER_COMPOSE } from "./daemon";
export {
    containerStates,
    coreApiVersion,
    databaseEvents,
    databasesIntact,
    databasePoints,
    INFLUX_INSPECT,
    influxTsmFiles,
    inBackend,
    influxVerify,
    readEvents,
    readPoints,
    runningServices,
    serviceStartedAt,
    sqliteIntegrity,
    userSqliteEventIds,
    waitForCore,
    waitForTsmFiles,
    writeEvents,
    writePoints,
} from "./data";
export type { CheckResult, PryvEvent, SeriesPoints, Site } from "./data";
