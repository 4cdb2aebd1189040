// Docker test hosts (startTestHosts({ engine: "docker" })): what tests use of them.
export { CORE_SERVICES } from "./compose";
export type { CoreService } from "./compose";
export { docker, DOCKER, DOCKER_COMPOSE } from "./daemon";
export {
    containerStates,
    coreApiVersion,
    INFLUX_INSPECT,
    influxTsmFiles,
    influxVerify,
    readEvents,
    readPoints,
    runningServices,
    sqliteIntegrity,
    waitForCore,
    waitForTsmFiles,
    writeEvents,
    writePoints,
} from "./data";
export type { CheckResult, PryvEvent, SeriesPoints, Site } from "./data";
